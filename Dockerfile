# syntax=docker/dockerfile:1
# One image definition for every service of the suite, chosen by build argument:
#
#   docker build --build-arg SERVICE=kop-gateway -t ozg-router/kop-gateway .
#
# SERVICE is one of zufi | submission | kop-gateway | payment | mailbox | demo-receiver (the last one
# needs deploy/demo-receiver to be a uv workspace member, package `ozg-demo-receiver`).
# The builder installs only that service's locked dependency closure into a self-contained venv; the
# final image is python:3.11-slim with that venv, no compiler, no uv, no sources, running as a
# non-root user. Each service has its own final stage below because env names and ports differ.
# The test harness (libs/testing) and the operators' CLI (libs/cli) are no service's dependency, so no
# image carries them; deploy/check.py checks that against uv.lock.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG SERVICE=zufi

FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY . .
# --no-editable: the venv holds real copies of the workspace packages, so /src is not needed later.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "ozg-${SERVICE}"

FROM ${PYTHON_IMAGE} AS runtime
# /var/lib/ozg is the services' var_dir (keys generated on first start, blobs, SQLite when no
# PostgreSQL is configured); mount a volume there to keep it. demo-keys/ exists so that a volume
# mounted there (zufi writes the demo destinations' key, the demo receiver reads it) is ours, not root's.
RUN groupadd --system --gid 10001 ozg \
    && useradd --system --uid 10001 --gid ozg --home-dir /var/lib/ozg --create-home \
       --shell /usr/sbin/nologin ozg \
    && install -d -o ozg -g ozg /var/lib/ozg/demo-keys
COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/ozg
USER 10001:10001
# urllib from the standard library: the slim image has no curl, and none is installed for this.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['OZG_HEALTHCHECK_PORT'] + '/healthz', timeout=4)"]

FROM runtime AS zufi
ENV OZG_ZUFI_HOST=0.0.0.0 OZG_ZUFI_PORT=8001 OZG_ZUFI_VAR_DIR=/var/lib/ozg OZG_HEALTHCHECK_PORT=8001
EXPOSE 8001
CMD ["python", "-m", "ozg_zufi"]

FROM runtime AS submission
ENV OZG_SUBMISSION_HOST=0.0.0.0 OZG_SUBMISSION_PORT=8002 OZG_SUBMISSION_VAR_DIR=/var/lib/ozg \
    OZG_HEALTHCHECK_PORT=8002
EXPOSE 8002
CMD ["python", "-m", "ozg_submission"]

FROM runtime AS kop-gateway
ENV OZG_KOP_GATEWAY_HOST=0.0.0.0 OZG_KOP_GATEWAY_PORT=8003 OZG_KOP_GATEWAY_VAR_DIR=/var/lib/ozg \
    OZG_HEALTHCHECK_PORT=8003
EXPOSE 8003
CMD ["python", "-m", "ozg_kop_gateway"]

FROM runtime AS payment
ENV OZG_PAYMENT_HOST=0.0.0.0 OZG_PAYMENT_PORT=8004 OZG_PAYMENT_VAR_DIR=/var/lib/ozg OZG_HEALTHCHECK_PORT=8004
EXPOSE 8004
CMD ["python", "-m", "ozg_payment"]

FROM runtime AS mailbox
ENV OZG_MAILBOX_HOST=0.0.0.0 OZG_MAILBOX_PORT=8005 OZG_MAILBOX_VAR_DIR=/var/lib/ozg OZG_HEALTHCHECK_PORT=8005
EXPOSE 8005
CMD ["python", "-m", "ozg_mailbox"]

FROM runtime AS demo-receiver
ENV OZG_DEMO_RECEIVER_HOST=0.0.0.0 OZG_DEMO_RECEIVER_PORT=8009 OZG_DEMO_RECEIVER_VAR_DIR=/var/lib/ozg \
    OZG_HEALTHCHECK_PORT=8009
EXPOSE 8009
CMD ["python", "-m", "ozg_demo_receiver"]

# The default target: the stage named by SERVICE (BuildKit builds only the stages it needs).
# hadolint ignore=DL3006
FROM ${SERVICE}
