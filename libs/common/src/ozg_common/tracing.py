"""OpenTelemetry: one application is one trace, carried over HTTP and in Kafka headers.

Off by default: with no OTLP endpoint configured, spans are not recorded, but an incoming
`traceparent` is still passed on, so a traced caller's trace continues through us.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    """Export spans over OTLP/HTTP when an endpoint is set; once per process."""
    global _configured
    if _configured or not otlp_endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": f"ozg-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("ozg_router")


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to put into an outgoing message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add the trace context to outgoing HTTP headers."""
    propagate.inject(headers)
    return headers


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


@contextmanager
def continued_span(name: str, carrier: Mapping[str, str], kind: SpanKind) -> Iterator[trace.Span]:
    """A span that continues the trace found in `carrier` (HTTP or CloudEvent headers)."""
    parent = propagate.extract(dict(carrier))
    token = context.attach(parent)
    try:
        with tracer().start_as_current_span(name, kind=kind) as span:
            yield span
    finally:
        context.detach(token)


class TracingMiddleware:
    """A server span per HTTP request, continuing the caller's `traceparent`.

    With tracing off (`recording=False`) no span is made, the caller's trace context is only passed on:
    even a no-op span costs CPU on every request (bench/README.md).
    """

    def __init__(self, app: ASGIApp, *, recording: bool = True) -> None:
        self.app = app
        self.recording = recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.recording:
            await self._pass_on(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        with continued_span(f"{scope['method']} {scope['path']}", headers, SpanKind.SERVER) as span:

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_wrapper)
            route = scope.get("route")
            if route is not None:
                span.update_name(f"{scope['method']} {getattr(route, 'path', scope['path'])}")

    async def _pass_on(self, scope: Scope, receive: Receive, send: Send) -> None:
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in _TRACE_HEADERS
        }
        if not carrier:
            await self.app(scope, receive, send)
            return
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
