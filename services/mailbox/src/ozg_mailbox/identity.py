"""Who is the citizen: a verified bearer token with scope `citizen`, mapped to a mailbox uuid."""

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from ozg_common.auth import Principal, TokenVerifier
from ozg_mailbox.errors import LoginUnavailable, NotACitizen
from ozg_mailbox.settings import MailboxSettings

CITIZEN_SCOPE = "citizen"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""An address for notices; no whitespace, so it cannot smuggle mail headers."""


DISCOVERED_ENDPOINTS = ("jwks_uri", "authorization_endpoint", "token_endpoint")
"""What the mailbox takes from a discovery document (the end-session endpoint is optional)."""


async def discovery_document(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID Connect discovery document, checked to be its own (Discovery 1.0 §4.3)."""
    try:
        async with httpx.AsyncClient(timeout=10.0) as http:
            answer = await http.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
            answer.raise_for_status()
            document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginUnavailable("Der Anmeldedienst ist gerade nicht erreichbar.") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise LoginUnavailable("Der Anmeldedienst meldet sich unter einem anderen Namen.")
    if any(not document.get(name) for name in DISCOVERED_ENDPOINTS):
        raise LoginUnavailable("Der Anmeldedienst nennt seine Adressen nicht vollständig.")
    return document


def mailbox_uuid(issuer: str, subject: str) -> uuid.UUID:
    """The mailbox of a login: stable per issuer and pseudonym (contracts.md)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}|{subject}")


@dataclass(frozen=True)
class Citizen:
    """A logged-in citizen: their mailbox, and what the login said about them."""

    mailbox_id: uuid.UUID
    email: str | None
    stork_qaa_level: str | None


def citizen_of(principal: Principal) -> Citizen:
    if not principal.has(CITIZEN_SCOPE) or not principal.subject:
        raise NotACitizen("The token needs the scope `citizen` and a subject.")
    issuer = str(principal.claims.get("iss", ""))
    email = principal.claims.get("email")
    level = principal.claims.get("stork_qaa_level")
    return Citizen(
        mailbox_id=mailbox_uuid(issuer, principal.subject),
        email=email if isinstance(email, str) and re.fullmatch(EMAIL_PATTERN, email) else None,
        stork_qaa_level=str(level) if level is not None else None,
    )


@dataclass(frozen=True)
class CitizenLogin:
    """Where citizens get their tokens: the suite's issuer, or an IdP of their own (BundID, OIDC)."""

    verifier: TokenVerifier | None
    """The citizen IdP's verifier; None: the suite's (`app.state.token_verifier`), as for operators."""
    issuer: str = ""

    @classmethod
    def from_settings(cls, settings: MailboxSettings) -> "CitizenLogin":
        if not settings.separate_citizen_idp:
            return cls(verifier=None)
        return cls(
            verifier=TokenVerifier(
                issuer=settings.citizen_issuer,
                jwks_url=settings.citizen_jwks_url or None,
                audience=settings.citizen_audience,
                token_types=settings.citizen_token_type_set,
            ),
            issuer=settings.citizen_issuer,
        )

    async def verify(self, request: Request, token: str) -> Principal:
        if self.verifier is None:
            suite_verifier: TokenVerifier = request.app.state.token_verifier
            return await suite_verifier.verify(token)
        if not self.verifier.jwks_url:
            self.verifier.jwks_url = str((await discovery_document(self.issuer))["jwks_uri"])
        return await self.verifier.verify(token)
