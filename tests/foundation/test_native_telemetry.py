"""Requests are traced once: by our tracing middleware, not a second time by FastAPI's own telemetry."""

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from ozg_testing import TestTokens

from .conftest import SERVICES, build_app


def _reset_global_tracer_provider() -> None:
    # The API sets its provider once per process; tests reset it as OpenTelemetry's own do.
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """A tracer provider that keeps every finished span, as one with an OTLP exporter would send it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _reset_global_tracer_provider()
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        _reset_global_tracer_provider()


@pytest.mark.parametrize("service", SERVICES)
async def test_fastapi_native_telemetry_adds_no_spans_of_its_own(
    service: str, exported: InMemorySpanExporter
) -> None:
    app = await build_app(service, TestTokens())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200
    # This service was built without an OTLP endpoint, so our middleware records nothing either.
    assert [span.name for span in exported.get_finished_spans()] == []
