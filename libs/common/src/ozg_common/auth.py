"""Bearer tokens: verification against the issuer's JWKS, scopes, and a token issuer."""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import Depends, Request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from ozg_common.keys import JwksCache, KeysUnavailable, key_set, public_jwks
from ozg_common.problems import Forbidden, Unauthorized

TOKEN_ALGORITHM = "RS256"
ACCEPTED_ALGORITHMS = ["RS256", "PS256", "PS512", "ES256"]
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
"""The `typ` of an access token (RFC 9068 §2.1): what tells it from an ID token or an event-log SET
signed with a key of the same issuer."""
VERIFIED_TOKENS_KEPT = 10_000
"""Bound of the verified-token cache; when full it starts afresh (tokens are re-verified)."""


@dataclass(frozen=True)
class Principal:
    """Who called: the token's subject, its client and the scopes it was granted."""

    subject: str
    client_id: str | None
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def scoped_values(self, prefix: str) -> set[str]:
        """Values of parameterised scopes, e.g. `destination:` → the destination ids."""
        return {s[len(prefix) :] for s in self.scopes if s.startswith(prefix)}


class TokenIssuer:
    """Signs access tokens and publishes the JWKS that verifies them."""

    def __init__(self, issuer: str, key: RSAKey, *, lifetime: int = 1800) -> None:
        self.issuer = issuer
        self.key = key
        self.lifetime = lifetime

    def jwks(self) -> dict[str, Any]:
        return public_jwks(self.key, alg=TOKEN_ALGORITHM)

    def issue(
        self,
        subject: str,
        scopes: Iterable[str],
        *,
        client_id: str | None = None,
        lifetime: int | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + (lifetime or self.lifetime),
            "jti": str(uuid.uuid4()),
            "scope": " ".join(sorted(set(scopes))),
            **({"client_id": client_id} if client_id else {}),
            **claims,
        }
        header = {"alg": TOKEN_ALGORITHM, "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self.key)


class TokenVerifier:
    """Verifies bearer JWTs with keys fetched from a JWKS URL (or given directly)."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        refresh_after: float = 300.0,
        audience: str = "",
        token_types: frozenset[str] | None = ACCESS_TOKEN_TYPES,
    ) -> None:
        self.issuer = issuer
        # None: any `typ`, for an IdP that writes a generic one; then `audience` must set its tokens apart.
        self.token_types = token_types
        # When set, a token must name it in `aud`: an IdP serving many clients issues tokens for each.
        self.audience = audience
        self.refresh_after = refresh_after
        self._fetched: JwksCache | None = None
        self.jwks_url = jwks_url
        self._keys: KeySet | None = key_set(jwks) if jwks else None
        self._verified: dict[str, tuple[float, Principal]] = {}

    @property
    def jwks_url(self) -> str | None:
        """Where the issuer's keys are fetched; may be set later (an IdP's discovery document names it)."""
        return self._fetched.url if self._fetched else None

    @jwks_url.setter
    def jwks_url(self, url: str | None) -> None:
        self._fetched = JwksCache(url, refresh_after=self.refresh_after) if url else None

    async def _key_set(self, kid: str) -> KeySet:
        if self._fetched is not None:
            try:
                return await self._fetched.keys_for(kid)
            except KeysUnavailable as exc:
                raise Unauthorized("The token issuer's keys are unavailable.") from exc
        if self._keys is None:
            raise Unauthorized("No keys to verify tokens with.")
        return self._keys

    async def verify(self, token: str) -> Principal:
        """The token's principal; a token verified before is answered from memory until it
        expires (at most `refresh_after`, so a key withdrawn from the JWKS stops counting)."""
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached[0]:
                return cached[1]
            del self._verified[token]
        principal = await self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        expires = principal.claims.get("exp")
        if isinstance(expires, int | float):
            self._verified[token] = (min(float(expires), time.time() + self.refresh_after), principal)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            kid = str(jws.extract_compact(token.encode()).protected.get("kid", ""))
            decoded = jwt.decode(token, await self._key_set(kid), algorithms=ACCEPTED_ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise Unauthorized("The bearer token is invalid or expired.") from exc
        token_type = str(decoded.header.get("typ", "")).lower()
        if self.token_types is not None and token_type not in self.token_types:
            raise Unauthorized("The bearer token is not an access token.")
        try:
            jwt.JWTClaimsRegistry(
                leeway=30, iss={"essential": True, "value": self.issuer}, exp={"essential": True}
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized("The bearer token is invalid or expired.") from exc
        claims = decoded.claims
        if self.audience and self.audience not in _audiences(claims):
            raise Unauthorized("The bearer token was not issued for this service.")
        return Principal(
            subject=str(claims.get("sub", "")),
            client_id=claims.get("client_id"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            claims=claims,
        )


def _audiences(claims: dict[str, Any]) -> set[str]:
    """A token's `aud`: one string or a list of them (RFC 7519 §4.1.3)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return {aud}
    return {str(item) for item in aud} if isinstance(aud, list) else set()


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer token is required.")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(bearer_token(request))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


SCOPE_DESCRIPTIONS = {
    "admin": "Operators: administration of every service.",
    "send": "Senders: submit applications and start payments.",
    "gateway": "The KOP gateway: reads every destination's submissions to deliver them.",
    "citizen": "A logged-in citizen: their own mailbox and applications.",
}
"""What the suite's well-known scopes grant, for the API documents."""


@runtime_checkable
class ScopedDependency(Protocol):
    """A dependency that grants access by the bearer token's scopes, at least one of `any_of`; the
    API documents read `any_of` as the operation's security requirement."""

    any_of: tuple[str, ...]


class ScopeRequirement:
    """A dependency granting access when the suite's token carries at least one of `any_of`."""

    def __init__(self, *any_of: str) -> None:
        self.any_of = any_of

    async def __call__(self, principal: PrincipalDep) -> Principal:
        if not any(principal.has(scope) for scope in self.any_of):
            raise Forbidden(f"This needs one of the scopes: {', '.join(self.any_of)}.")
        return principal


def require_scope(*any_of: str) -> ScopeRequirement:
    """A dependency granting access when the token carries at least one of `any_of`."""
    return ScopeRequirement(*any_of)


ADMIN_SCOPE = "admin"
"""Operators: every administration endpoint of the suite."""
SEND_SCOPE = "send"
"""Senders (online services): hand in applications and open payments."""

AdminDep = Annotated[Principal, Depends(require_scope(ADMIN_SCOPE))]
"""An operator: `admin` in a token of the suite's issuer (`app.state.token_verifier`); a citizen
IdP's tokens fail that issuer's key check, whatever scopes they carry."""
SenderDep = Annotated[Principal, Depends(require_scope(SEND_SCOPE))]
"""A sender: `send` in a token of the suite's issuer."""
SenderOrAdminDep = Annotated[Principal, Depends(require_scope(SEND_SCOPE, ADMIN_SCOPE))]
"""A sender, or an operator reading what senders see."""
