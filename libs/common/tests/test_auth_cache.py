"""Verified bearer tokens are remembered, but never beyond their expiry or a JWKS refresh."""

import asyncio
import time
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import RSAKey

from ozg_common.auth import TokenIssuer, TokenVerifier
from ozg_common.keys import public_jwks
from ozg_common.problems import Unauthorized
from ozg_testing import serving

ISSUER = "http://issuer.test"


def _issuer() -> TokenIssuer:
    key = RSAKey.generate_key(2048, parameters={"kid": str(uuid.uuid4())}, private=True)
    return TokenIssuer(ISSUER, key)


async def test_a_token_is_answered_again_with_the_same_principal_and_a_forged_one_never() -> None:
    issuer = _issuer()
    verifier = TokenVerifier(issuer=ISSUER, jwks=issuer.jwks())
    token = issuer.issue("client-a", ["send"], client_id="client-a")
    first, again = await verifier.verify(token), await verifier.verify(token)
    assert first == again
    assert again.client_id == "client-a"
    assert again.has("send")

    header, claims, signature = token.split(".")
    forged = ".".join([header, claims, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await verifier.verify(forged)


async def test_an_expired_token_is_refused_although_it_was_verified_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issuer = _issuer()
    verifier = TokenVerifier(issuer=ISSUER, jwks=issuer.jwks())
    now = time.time()
    token = issuer.issue("client-a", ["send"], lifetime=60)
    assert (await verifier.verify(token)).subject == "client-a"
    # 100 s later: past its expiry and the 30 s leeway, well within the JWKS refresh interval.
    monkeypatch.setattr(time, "time", lambda: now + 100)
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


def _jwks_app(published: dict[str, Any]) -> FastAPI:
    """An issuer's JWKS endpoint serving what `published["jwks"]` holds at the time of asking."""
    app = FastAPI()

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return dict(published["jwks"])

    return app


async def test_a_key_withdrawn_from_the_jwks_stops_its_cached_tokens_after_the_refresh() -> None:
    old, new = _issuer(), _issuer()
    published: dict[str, Any] = {"jwks": public_jwks(old.key, alg="RS256")}
    async with serving(_jwks_app(published)) as base:
        verifier = TokenVerifier(issuer=ISSUER, jwks_url=f"{base}/jwks", refresh_after=0.5)
        token = old.issue("client-a", ["send"])
        assert (await verifier.verify(token)).subject == "client-a"
        published["jwks"] = public_jwks(new.key, alg="RS256")
        await asyncio.sleep(0.7)
        with pytest.raises(Unauthorized):
            await verifier.verify(token)


async def test_a_token_signed_with_the_issuers_new_key_verifies_before_the_refresh() -> None:
    """A kid the verifier has not seen sends it to the JWKS again, whatever `refresh_after` says
    (at most every 5 s, so that unknown kids cannot make it fetch at their pace)."""
    old, new = _issuer(), _issuer()
    published: dict[str, Any] = {"jwks": public_jwks(old.key, alg="RS256")}
    async with serving(_jwks_app(published)) as base:
        verifier = TokenVerifier(issuer=ISSUER, jwks_url=f"{base}/jwks", refresh_after=3600)
        assert (await verifier.verify(old.issue("client-a", ["send"]))).subject == "client-a"
        published["jwks"] = public_jwks(old.key, new.key, alg="RS256")
        await asyncio.sleep(5.1)
        assert (await verifier.verify(new.issue("client-b", ["send"]))).subject == "client-b"


async def test_keys_found_later_by_discovery_verify_tokens() -> None:
    """An IdP's JWKS URL may come from its discovery document after the verifier was made."""
    issuer = _issuer()
    app = FastAPI()

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return public_jwks(issuer.key, alg="RS256")

    async with serving(app) as base:
        verifier = TokenVerifier(issuer=ISSUER)
        token = issuer.issue("citizen-1", ["citizen"])
        with pytest.raises(Unauthorized):
            await verifier.verify(token)
        verifier.jwks_url = f"{base}/jwks"
        assert (await verifier.verify(token)).subject == "citizen-1"


@pytest.mark.parametrize("typ", ["secevent+jwt", "JWT", None], ids=["SET", "ID token", "no typ"])
async def test_only_access_tokens_pass_as_access_tokens(typ: str | None) -> None:
    """An event-log SET or an ID token signed with the issuer's key, with every claim an access
    token has, still is no access token."""
    issuer = _issuer()
    verifier = TokenVerifier(issuer=ISSUER, jwks=issuer.jwks())
    access = issuer.issue("client-a", ["admin"], client_id="client-a")
    claims = jwt.decode(access, issuer.key).claims
    header = {"alg": "RS256", "kid": issuer.key.kid, **({"typ": typ} if typ else {})}
    with pytest.raises(Unauthorized, match="not an access token"):
        await verifier.verify(jwt.encode(header, claims, issuer.key))
    assert (await verifier.verify(access)).has("admin")
    anything = TokenVerifier(issuer=ISSUER, jwks=issuer.jwks(), token_types=None)
    assert (await anything.verify(jwt.encode(header, claims, issuer.key))).has("admin")
