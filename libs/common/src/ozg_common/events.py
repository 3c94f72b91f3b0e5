"""CloudEvents 1.0 envelope in Kafka binary mode, and the base of every event payload."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EVENT_TYPE_PREFIX = "de.ozg-router."
SPEC_VERSION = "1.0"


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""A moment in an event: zone-aware once read; one a peer sent without an offset is UTC, as every
time in this suite (consumers compare it with times read back from their databases)."""


@dataclass(frozen=True)
class Topic:
    """A Kafka topic one service produces to; `partitions` bounds consumer parallelism."""

    name: str
    description: str
    partitions: int = 12


class Event(BaseModel):
    """Base of every event payload. Subclasses name their type, topic and partition key."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_type: ClassVar[str]
    topic: ClassVar[Topic]
    registry: ClassVar[dict[str, type["Event"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            Event.registry[EVENT_TYPE_PREFIX + cls.event_type] = cls

    @classmethod
    def cloud_type(cls) -> str:
        return EVENT_TYPE_PREFIX + cls.event_type

    def partition_key(self) -> str:
        """The key that keeps one case's events in one partition, in order."""
        raise NotImplementedError

    def subject(self) -> str | None:
        return None


class CloudEvent(BaseModel):
    """The envelope of every Kafka message (CloudEvents 1.0 attributes)."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str | None = None
    time: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    specversion: str = SPEC_VERSION
    data: dict[str, Any]
    extensions: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def wrap(cls, event: Event, *, source: str, extensions: dict[str, str] | None = None) -> "CloudEvent":
        return cls(
            source=source,
            type=event.cloud_type(),
            subject=event.subject(),
            data=event.model_dump(mode="json", by_alias=True),
            extensions=extensions or {},
        )

    def payload(self) -> Event | None:
        """The typed payload, or None for a type this code does not know (yet)."""
        model = Event.registry.get(self.type)
        return model.model_validate(self.data) if model else None

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", self.specversion),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("content-type", self.datacontenttype),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject))
        headers.extend((f"ce_{name}", value) for name, value in self.extensions.items())
        return [(name, value.encode()) for name, value in headers]

    def kafka_value(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]], value: bytes) -> "CloudEvent":
        attributes = {name: raw.decode() for name, raw in headers}
        core = {"specversion", "id", "source", "type", "time", "subject"}
        extensions = {
            name[3:]: text
            for name, text in attributes.items()
            if name.startswith("ce_") and name[3:] not in core
        }
        return cls(
            id=attributes["ce_id"],
            source=attributes["ce_source"],
            type=attributes["ce_type"],
            subject=attributes.get("ce_subject"),
            time=datetime.fromisoformat(attributes["ce_time"]),
            datacontenttype=attributes.get("content-type", "application/json"),
            specversion=attributes.get("ce_specversion", SPEC_VERSION),
            data=json.loads(value),
            extensions=extensions,
        )
