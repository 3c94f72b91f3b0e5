"""Who is the citizen: a verified bearer token with scope `citizen`, mapped to a mailbox uuid."""

import re
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ozg_common.auth import Principal, TokenVerifier, bearer_token
from ozg_mailbox.errors import NotACitizen
from ozg_mailbox.settings import MailboxSettings

CITIZEN_SCOPE = "citizen"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""An address for notices; no whitespace, so it cannot smuggle mail headers."""


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

    @classmethod
    def from_settings(cls, settings: MailboxSettings) -> "CitizenLogin":
        if not settings.separate_citizen_idp:
            return cls(verifier=None)
        return cls(
            verifier=TokenVerifier(
                issuer=settings.citizen_issuer,
                jwks_url=settings.citizen_jwks_url,
                audience=settings.citizen_audience,
            )
        )

    async def verify(self, request: Request, token: str) -> Principal:
        verifier: TokenVerifier = self.verifier or request.app.state.token_verifier
        return await verifier.verify(token)


async def verify_citizen_token(request: Request, token: str) -> Citizen:
    """The one token check of the API and the web page."""
    login: CitizenLogin = request.app.state.citizen_login
    return citizen_of(await login.verify(request, token))


async def current_citizen(request: Request) -> Citizen:
    return await verify_citizen_token(request, bearer_token(request))


CitizenDep = Annotated[Citizen, Depends(current_citizen)]
