"""The `ozg` command line: every command explains itself, and it talks real HTTP with a real token."""

import asyncio
import json
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import JSONResponse
from typer.testing import CliRunner

from ozg_common.cli import app
from ozg_common.testing import serving

COMMANDS = [
    [],
    ["areas", "import"],
    ["catalogue", "import"],
    ["clients", "create"],
    ["clients", "rotate-secret"],
    ["destinations", "rotate-key"],
    ["deliveries", "list"],
    ["deliveries", "replay"],
    ["payments", "list"],
    ["payments", "reconciliation"],
    ["cases", "trail"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ozg")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    help_text = result.output.split("Options:")[0].split("Usage:")[1]
    assert len(help_text.strip().splitlines()) >= 2, f"{command} has no description"


def admin_api() -> FastAPI:
    """A token endpoint and kop-gateway's delivery listing, as the CLI sees them over HTTP."""
    api = FastAPI()
    dead = {
        "id": "0b6a3c1e-6f1b-4a57-9c1e-2f3d4e5f6a7b",
        "destinationId": "dest-1",
        "caseId": "case-1",
        "state": "dead_lettered",
        "attemptCount": 17,
        "lastError": "HTTP 503",
    }

    @api.post("/token")
    async def token(
        client_id: Annotated[str, Form()],
        client_secret: Annotated[str, Form()],
        scope: Annotated[str, Form()],
    ) -> dict[str, Any]:
        if (client_id, client_secret, scope) != ("ops", "s3cret-ops", "admin"):
            raise HTTPException(401)
        return {"access_token": "admin-token", "token_type": "Bearer", "expires_in": 1800}

    @api.get("/v1/admin/deliveries")
    async def deliveries(
        authorization: Annotated[str, Header()], state: str | None = None, offset: int = 0
    ) -> dict[str, Any]:
        if authorization != "Bearer admin-token":
            raise HTTPException(401)
        rows = [dead] if state == "dead_lettered" and offset == 0 else []
        return {"count": len(rows), "offset": offset, "totalCount": 1, "deliveries": rows}

    @api.get("/v1/admin/applications/{case_id}")
    async def application(case_id: str) -> JSONResponse:
        problem = {"type": "about:blank", "title": "Application not found", "status": 404}
        return JSONResponse(problem, status_code=404, media_type="application/problem+json")

    return api


async def test_lists_dead_letters_over_http_with_a_token_from_client_credentials() -> None:
    async with serving(admin_api()) as base_url:
        env = {"OZG_CLI_SUBMISSION_URL": base_url, "OZG_CLI_KOP_GATEWAY_URL": base_url}
        args = [
            "--client-id",
            "ops",
            "--client-secret",
            "s3cret-ops",
            "deliveries",
            "list",
            "--dead",
            "--json",
        ]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
        refused = await asyncio.to_thread(
            CliRunner().invoke, app, ["--token", "wrong", "deliveries", "list"], env=env
        )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attemptCount"] == 17
    assert refused.exit_code == 1
    assert "401" in refused.output


async def test_case_trail_tells_unknown_from_unreachable() -> None:
    async with serving(admin_api()) as base_url:
        env = {
            "OZG_CLI_MAILBOX_URL": base_url,
            **{
                f"OZG_CLI_{name}_URL": "http://127.0.0.1:9"
                for name in ("SUBMISSION", "KOP_GATEWAY", "PAYMENT")
            },
        }
        args = ["--token", "admin-token", "cases", "trail", "case-1", "--json"]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert result.exit_code == 0, result.output
    trail = json.loads(result.output)
    assert "404" in trail["mailbox application"]["notFound"]
    assert "not reachable" in trail["payment transactions"]["unavailable"]
