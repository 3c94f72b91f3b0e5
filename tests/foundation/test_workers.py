"""A service started with WORKERS=2 serves from two processes that share one start-up's work."""

import json
import secrets
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from pydantic import ValidationError

from ozg_submission.settings import SubmissionSettings
from ozg_testing import free_port, fresh_postgres_database, kafka_bootstrap, unique_topic_prefix
from ozg_testing.processes import ServiceProcess


def _workers_of(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


async def test_two_workers_serve_with_one_key_and_one_set_of_clients(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps([{"client_id": "form", "client_secret": secret, "scopes": ["send"]}]))
    port = free_port()
    service = ServiceProcess(
        "ozg_submission",
        {
            "OZG_SUBMISSION_WORKERS": "2",
            "OZG_SUBMISSION_PORT": str(port),
            "OZG_SUBMISSION_DATABASE_URL": await fresh_postgres_database("test_workers_submission"),
            "OZG_SUBMISSION_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
            "OZG_SUBMISSION_TOPIC_PREFIX": unique_topic_prefix(),
            "OZG_SUBMISSION_VAR_DIR": str(tmp_path / "var"),
            "OZG_SUBMISSION_BOOTSTRAP_CLIENTS_FILE": str(clients),
            "OZG_SUBMISSION_TOKEN_ISSUER": f"http://127.0.0.1:{port}",
        },
        port=port,
        log_path=tmp_path / "submission.log",
    )
    await service.start(within=120)
    try:
        assert service.process is not None
        assert len(_workers_of(service.process.pid)) >= 2
        async with httpx.AsyncClient(base_url=service.base_url, timeout=10) as http:
            # Many requests over fresh connections reach both workers: every one knows the client
            # the single start-up created, and signs with the one key both publish.
            form = {"grant_type": "client_credentials", "client_id": "form", "client_secret": secret}
            tokens = []
            for _ in range(12):
                async with httpx.AsyncClient(base_url=service.base_url, timeout=10) as fresh:
                    answer = await fresh.post("/token", data=form)
                    assert answer.status_code == 200, answer.text
                    tokens.append(answer.json()["access_token"])
                    assert (await fresh.get("/readyz")).status_code == 200
            keys = KeySet.import_key_set((await http.get("/.well-known/jwks.json")).json())
            for token in tokens:
                assert jwt.decode(token, keys).claims["client_id"] == "form"
    finally:
        service.stop()
    log = (tmp_path / "submission.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_more_than_one_worker_needs_postgresql() -> None:
    with pytest.raises(ValidationError, match="workers > 1 needs PostgreSQL"):
        SubmissionSettings(workers=2, database_url="sqlite+aiosqlite:///var/x.sqlite3")
