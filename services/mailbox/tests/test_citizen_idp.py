"""Citizens log in at their own IdP (BundID, a state's OIDC provider); operators keep the suite's issuer."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from ozg_mailbox.identity import mailbox_uuid
from ozg_mailbox.settings import MailboxSettings
from ozg_testing import TestTokens, serving

AUDIENCE = "ozg-postfach"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_citizen_idp_tokens_open_the_mailbox_but_never_the_admin_api(
    isolated_mailbox: Any, tokens: TestTokens, tmp_path: Path
) -> None:
    idp = TestTokens(issuer="https://id.buerger.test/realms/bund", key_path=tmp_path / "idp.json")
    idp_app = FastAPI()
    idp_app.get("/protocol/openid-connect/certs")(idp.issuer.jwks)
    subject = f"bundid-{uuid.uuid4().hex}"

    def idp_token(*scopes: str, audience: str = AUDIENCE) -> str:
        return idp.token(*scopes, subject=subject, aud=audience, email="erika@example.de")

    async with (
        serving(idp_app) as idp_url,
        isolated_mailbox(
            citizen_issuer=idp.issuer.issuer,
            citizen_jwks_url=f"{idp_url}/protocol/openid-connect/certs",
            citizen_audience=AUDIENCE,
        ) as (mailbox, _),
    ):
        http: httpx.AsyncClient = mailbox.http
        opened = await http.get("/v1/mailbox", headers=bearer(idp_token("citizen")))
        assert opened.status_code == 200, opened.text
        assert opened.json()["mailboxUuid"] == str(mailbox_uuid(idp.issuer.issuer, subject))

        for_another_service = await http.get(
            "/v1/mailbox", headers=bearer(idp_token("citizen", audience="another-portal"))
        )
        assert for_another_service.status_code == 401
        assert for_another_service.headers["content-type"] == "application/problem+json"

        # The suite's dev issuer makes no citizens: they log in at their IdP only.
        suite_citizen = await http.get("/v1/mailbox", headers=tokens.headers("citizen", subject=subject))
        assert suite_citizen.status_code == 401

        case = f"/v1/admin/applications/{uuid.uuid4()}"
        idp_admin = await http.get(case, headers=bearer(idp_token("citizen", "admin")))
        assert idp_admin.status_code == 401
        assert idp_admin.headers["content-type"] == "application/problem+json"
        operator = await http.get(case, headers=tokens.headers("admin", subject="operator"))
        assert operator.status_code == 404
        assert operator.json()["type"].endswith("/application-not-found")


@pytest.mark.parametrize(
    "values",
    [
        {"citizen_jwks_url": "https://id.buerger.test/certs"},
        {"citizen_audience": AUDIENCE},
        {"citizen_issuer": "https://id.buerger.test", "citizen_jwks_url": "https://id.buerger.test/certs"},
        {"citizen_oidc_client_id": AUDIENCE},
    ],
    ids=[
        "keys without issuer",
        "audience without issuer",
        "issuer without audience",
        "web client without issuer",
    ],
)
def test_an_incomplete_citizen_idp_is_refused_at_start(values: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="citizen_"):
        MailboxSettings(var_dir=tmp_path, **values)  # type: ignore[arg-type]
