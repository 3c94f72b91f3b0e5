"""The AsyncAPI 3.0 catalogue of the suite's events, generated from the contracts' pydantic models.

`python -m ozg_common.asyncapi` prints it, `--write` refreshes docs/asyncapi.yaml, `--check` fails
when the committed document no longer matches the code. Every service serves it via
`asyncapi_router()` at /asyncapi.yaml and /asyncapi.json.
"""

import argparse
import inspect
import re
import sys
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Response
from pydantic.json_schema import models_json_schema

from ozg_common import contracts
from ozg_common.events import SPEC_VERSION, Event, Topic
from ozg_common.settings import PROJECT_ROOT

DOCUMENT_PATH = PROJECT_ROOT / "docs" / "asyncapi.yaml"
KAFKA_BINDING_VERSION = "0.5.0"
PRODUCER_OF_TOPIC = {topic.name: topic.name.split(".")[0] for topic in contracts.ALL_TOPICS}
PRODUCER_OF_TOPIC["delivery.events"] = "kop-gateway"

DESCRIPTION = """\
Every event of ozg-router travels on Kafka as a CloudEvents 1.0 message in **binary mode**: the
CloudEvents attributes are Kafka headers (`ce_id`, `ce_source`, `ce_type`, `ce_time`, `ce_subject`,
`ce_specversion`, `content-type`, and extensions such as `ce_traceparent` for W3C trace context),
the value is the event's JSON payload (snake_case) and the key is the partition key, so all events
of one case stay in one partition, in order.

Topics are created with 12 partitions (replication factor 3 and `min.insync.replicas=2` in
production); a deployment may prefix every topic name (setting `topic_prefix`). Consumers are
idempotent: an event may be delivered more than once, never lost. A consumer ignores event types
it does not know, and producers only add optional fields, so versions can be rolled out one
service at a time.

Generated from `ozg_common.contracts` by `python -m ozg_common.asyncapi --write`; do not edit.
"""


def contract_events() -> list[type[Event]]:
    """The event types of the contracts, in topic order, then by type name."""
    topic_order = {topic.name: index for index, topic in enumerate(contracts.ALL_TOPICS)}
    events = [cls for cls in Event.registry.values() if cls.__module__.startswith(contracts.__name__ + ".")]
    return sorted(events, key=lambda cls: (topic_order[cls.topic.name], cls.event_type))


def key_description(event: type[Event]) -> str:
    """What the Kafka key holds, read from the fields `partition_key()` returns."""
    fields = list(dict.fromkeys(re.findall(r"self\.(\w+)", inspect.getsource(event.partition_key))))
    return "Partition key: " + ", or else ".join(f"`{name}`" for name in fields) + "."


def header_schema(event: type[Event]) -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"const": SPEC_VERSION},
            "ce_id": {**string, "description": "Unique per event; consumers deduplicate by it."},
            "ce_source": {**string, "description": "The producing service, e.g. `/ozg-router/zufi`."},
            "ce_type": {"const": event.cloud_type()},
            "ce_time": {**string, "format": "date-time"},
            "ce_subject": {**string, "description": "What the event is about, e.g. `case:<case id>`."},
            "content-type": {"const": "application/json"},
            "ce_traceparent": {
                **string,
                "description": "W3C trace context of the request that caused the event (when tracing is on).",
            },
        },
    }


def message_name(event: type[Event]) -> str:
    return event.__name__


def summary(event: type[Event]) -> str:
    return (inspect.getdoc(event) or event.__name__).splitlines()[0]


def channel_id(topic: Topic) -> str:
    return topic.name.replace(".", "-")


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a plain mapping, deterministic for a given code base."""
    events = contract_events()
    _, definitions = models_json_schema(
        [(event, "serialization") for event in events], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(sorted(definitions.get("$defs", {}).items()))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in contracts.ALL_TOPICS:
        on_topic = [event for event in events if event.topic.name == topic.name]
        channels[channel_id(topic)] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {
                message_name(event): {"$ref": f"#/components/messages/{message_name(event)}"}
                for event in on_topic
            },
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "replicas": 3,
                    "topicConfiguration": {"min.insync.replicas": 2, "cleanup.policy": ["delete"]},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        producer = PRODUCER_OF_TOPIC[topic.name]
        operations[f"{producer}-publishes-{channel_id(topic)}"] = {
            "action": "send",
            "title": f"{producer} publishes on {topic.name}",
            "summary": f"Written through {producer}'s transactional outbox, relayed with acks=all.",
            "channel": {"$ref": f"#/channels/{channel_id(topic)}"},
            "messages": [
                {"$ref": f"#/channels/{channel_id(topic)}/messages/{message_name(event)}"}
                for event in on_topic
            ],
        }
    messages = {
        message_name(event): {
            "name": event.cloud_type(),
            "title": event.__name__,
            "summary": summary(event),
            "contentType": "application/json",
            "headers": header_schema(event),
            "payload": {"$ref": f"#/components/schemas/{event.__name__}"},
            "correlationId": {
                "description": "The case (or record) the event is about.",
                "location": "$message.header#/ce_subject",
            },
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": key_description(event)},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        for event in events
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ozg-router events",
            "version": version("ozg-common"),
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "The suite's Kafka cluster (KRaft); the address is a deployment setting.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, so descriptions read as written."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def render_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


@cache
def _cached_yaml() -> str:
    return render_yaml(build_document())


def asyncapi_router() -> APIRouter:
    """Serves the event catalogue at GET /asyncapi.yaml and GET /asyncapi.json."""
    router = APIRouter(tags=["events"])

    @router.get("/asyncapi.yaml", summary="AsyncAPI 3.0 catalogue of the suite's events (YAML)")
    async def asyncapi_yaml() -> Response:
        return Response(_cached_yaml(), media_type="application/yaml")

    @router.get("/asyncapi.json", summary="AsyncAPI 3.0 catalogue of the suite's events (JSON)")
    async def asyncapi_json() -> dict[str, Any]:
        return build_document()

    return router


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ozg_common.asyncapi", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write the document to {DOCUMENT_PATH}")
    action.add_argument("--check", action="store_true", help="exit 1 when the committed document is stale")
    parser.add_argument("--path", type=Path, default=DOCUMENT_PATH, help="the document's path")
    args = parser.parse_args(argv)
    text = render_yaml(build_document())
    if args.write:
        args.path.parent.mkdir(parents=True, exist_ok=True)
        args.path.write_text(text)
        print(f"wrote {args.path}")
    elif args.check:
        if not args.path.exists() or args.path.read_text() != text:
            print(f"{args.path} is stale: run `python -m ozg_common.asyncapi --write`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
