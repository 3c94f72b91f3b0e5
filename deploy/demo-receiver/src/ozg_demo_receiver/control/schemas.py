"""The control endpoint's body and answer."""

from pydantic import BaseModel, ConfigDict, Field

from ozg_common.openapi import examples


class ControlUpdate(BaseModel):
    """Only the fields sent change; `reset` first restores the settings' behaviour."""

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        json_schema_extra=examples({"failStatus": 503, "failRequests": 3, "retryAfter": 2}),
    )

    reset: bool = False
    auto_answer: bool | None = Field(None, alias="autoAnswer")
    reject_leika_keys: list[str] | None = Field(None, alias="rejectLeikaKeys")
    fail_status: int | None = Field(None, alias="failStatus", ge=400, le=599)
    fail_requests: int | None = Field(None, alias="failRequests", ge=0)
    fail_for_seconds: float | None = Field(None, alias="failForSeconds", ge=0)
    retry_after: int | None = Field(None, alias="retryAfter", ge=0)
    delay_seconds: float | None = Field(None, alias="delaySeconds", ge=0, le=120)


class ControlState(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    auto_answer: bool = Field(alias="autoAnswer")
    reject_leika_keys: list[str] = Field(alias="rejectLeikaKeys")
    fail_status: int = Field(alias="failStatus")
    fail_requests: int = Field(alias="failRequests")
    fail_until: float = Field(alias="failUntil")
    retry_after: int | None = Field(alias="retryAfter")
    delay_seconds: float = Field(alias="delaySeconds")
    failed_total: int = Field(alias="failedTotal")
