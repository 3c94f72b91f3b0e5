"""JSON shapes several of zufi's domains share."""

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from ozg_common.schemas import Schema


class AreaRef(Schema):
    """An area as lists name it."""

    id: str
    name: str
    type: str


def _with_german(texts: dict[str, str]) -> dict[str, str]:
    if "de" not in texts:
        raise ValueError("the text needs its German version (language code de)")
    return texts


LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Texte = Annotated[
    dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=20_000)]],
    AfterValidator(_with_german),
]
"""A text by ISO 639-1 language code (it may hold HTML, as the Routing API allows), German always."""

HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://.+", max_length=1000)]
"""A link the Routing API answers: https only."""

DurationUnit = Literal["year", "month", "week", "day", "workday", "hour", "minute", "second"]


class Bearbeitungsdauer(Schema):
    """How long the authority takes, as the Routing API states it."""

    min_duration: int | None = Field(default=None, ge=0, le=2**31 - 1)
    max_duration: int | None = Field(default=None, ge=0, le=2**31 - 1)
    unit: DurationUnit | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        low, high = self.min_duration, self.max_duration
        if low is not None and high is not None and low > high:
            raise ValueError("minDuration exceeds maxDuration")
        return self
