"""Citizen login at an OpenID Connect provider: authorization code flow with PKCE (RFC 7636), by Authlib.

The provider is found by discovery under `citizen_issuer`. What the browser must bring back (state,
PKCE verifier, nonce, the page to return to) travels in a short-lived HttpOnly cookie, read once.
"""

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from ozg_common.auth import Principal, TokenVerifier
from ozg_common.problems import Unauthorized
from ozg_mailbox.errors import LoginRefused, LoginUnavailable, UnsafeNextPage
from ozg_mailbox.identity import discovery_document
from ozg_mailbox.settings import MailboxSettings

DEFAULT_NEXT_PAGE = "/web/"
NEXT_PAGE = re.compile(r"/web/[A-Za-z0-9\-._~/?=&%]*")
"""A path of this web page: no scheme, no host, no `//` or backslash a browser could read as one."""
DISCOVERY_KEPT_SECONDS = 3600.0


def safe_next_page(next_page: str | None) -> str:
    """The page to show after login; anything that could leave this site is refused."""
    if not next_page:
        return DEFAULT_NEXT_PAGE
    if not NEXT_PAGE.fullmatch(next_page) or "//" in next_page or "/.." in next_page:
        raise UnsafeNextPage(
            "Die Seite, zu der Sie nach der Anmeldung zurückkehren sollten, gibt es hier nicht."
        )
    return next_page


@dataclass(frozen=True)
class Anmeldevorgang:
    """A login this browser started: what must come back with the code."""

    state: str
    code_verifier: str
    nonce: str
    next_page: str

    def to_cookie(self) -> str:
        """Base64url JSON: cookie-safe without quoting."""
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> "Anmeldevorgang":
        """The pending login; a missing, damaged or incomplete cookie is refused, never guessed."""
        refused = LoginRefused(
            "Zu dieser Rückkehr vom Anmeldedienst gibt es keinen offenen Anmeldevorgang "
            "(schon verwendet, abgelaufen oder in einem anderen Browser begonnen)."
        )
        if not value:
            raise refused
        try:
            fields = json.loads(base64.urlsafe_b64decode(value.encode()))
            attempt = cls(**{name: str(fields.get(name) or "") for name in cls.__dataclass_fields__})
        except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
            raise refused from exc
        if not attempt.code_verifier:
            raise LoginRefused("Der Anmeldevorgang hat keinen PKCE-Prüfwert; bitte melden Sie sich neu an.")
        if not attempt.state or not attempt.nonce:
            raise refused
        safe_next_page(attempt.next_page)
        return attempt


@dataclass(frozen=True)
class Anmeldung:
    """A finished login: the tokens the web session keeps, and the verified ID token's claims."""

    access_token: str
    id_token: str
    identity: Principal


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints discovery named (OpenID Connect Discovery 1.0 §3)."""

    authorization_endpoint: str
    token_endpoint: str
    end_session_endpoint: str | None


class CitizenOidc:
    """The mailbox web page as an OpenID Connect client of the citizen IdP."""

    def __init__(self, settings: MailboxSettings) -> None:
        self.issuer = settings.citizen_issuer.rstrip("/")
        self.client_id = settings.citizen_oidc_client_id
        self.client_secret = settings.citizen_oidc_client_secret.get_secret_value()
        self.scopes = settings.citizen_oidc_scopes
        self.redirect_uri = settings.oidc_redirect_uri
        self.post_logout_redirect_uri = settings.public_base_url.rstrip("/") + "/web/login?logged_out=true"
        # ID tokens name this client as audience; their generic `typ` is what OIDC Core writes.
        self.id_tokens = TokenVerifier(
            issuer=settings.citizen_issuer,
            jwks_url=settings.citizen_jwks_url or None,
            audience=self.client_id,
            token_types=None,
        )
        issuer_url = urlsplit(self.issuer)
        self.origin = f"{issuer_url.scheme}://{issuer_url.netloc}"
        """The IdP's origin, where the logout form may lead."""
        self._metadata: ProviderMetadata | None = None
        self._discovered_at = 0.0

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
            timeout=10.0,
        )

    def check_redirect_uri(self, host: str, path: str) -> None:
        """The callback must be reached at the redirect URI registered at the IdP: under another host
        name the code was issued for somewhere else (or the request was steered here), so it is refused
        before it is redeemed. Scheme and port are not compared: a TLS proxy may change both."""
        registered = urlsplit(self.redirect_uri)
        if host.rsplit(":", 1)[0].lower() != (registered.hostname or "") or path != registered.path:
            raise LoginRefused(
                "Diese Rücksprungadresse ist beim Anmeldedienst nicht eingetragen; "
                f"bitte melden Sie sich über {registered.scheme}://{registered.netloc}/web/ an."
            )

    async def metadata(self) -> ProviderMetadata:
        if self._metadata and time.monotonic() - self._discovered_at < DISCOVERY_KEPT_SECONDS:
            return self._metadata
        document = await discovery_document(self.issuer)
        self.id_tokens.jwks_url = self.id_tokens.jwks_url or str(document["jwks_uri"])
        self._metadata = ProviderMetadata(
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            end_session_endpoint=document.get("end_session_endpoint"),
        )
        self._discovered_at = time.monotonic()
        return self._metadata

    async def start(self, next_page: str) -> tuple[str, Anmeldevorgang]:
        """The provider's login address, and the pending login the browser keeps meanwhile."""
        metadata = await self.metadata()
        attempt = Anmeldevorgang(
            state=generate_token(32),
            code_verifier=generate_token(64),
            nonce=generate_token(32),
            next_page=safe_next_page(next_page),
        )
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint,
                state=attempt.state,
                code_verifier=attempt.code_verifier,
                nonce=attempt.nonce,
            )
        return url, attempt

    async def finish(self, attempt: Anmeldevorgang, state: str, code: str) -> Anmeldung:
        """Redeem the code with the PKCE verifier and check the ID token against this login."""
        if not state or not secrets.compare_digest(state.encode(), attempt.state.encode()):
            raise LoginRefused("Die Rückkehr vom Anmeldedienst gehört nicht zu Ihrem Anmeldevorgang (state).")
        if not code:
            raise LoginRefused("Der Anmeldedienst hat keinen Anmeldecode geschickt.")
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata.token_endpoint, code=code, code_verifier=attempt.code_verifier
                )
        except OAuthError as exc:
            raise LoginRefused(f"Der Anmeldedienst hat den Anmeldecode abgelehnt ({exc.error}).") from exc
        except httpx.HTTPError as exc:
            raise LoginUnavailable("Der Anmeldedienst ist gerade nicht erreichbar.") from exc
        access_token, id_token = token.get("access_token"), token.get("id_token")
        if not isinstance(access_token, str) or not isinstance(id_token, str):
            raise LoginRefused("Der Anmeldedienst hat kein Zugangs- und ID-Token ausgestellt.")
        identity = await self.identity(id_token)
        nonce = str(identity.claims.get("nonce", ""))
        if not secrets.compare_digest(nonce.encode(), attempt.nonce.encode()):
            raise LoginRefused("Das ID-Token gehört nicht zu diesem Anmeldevorgang (nonce).")
        return Anmeldung(access_token=access_token, id_token=id_token, identity=identity)

    async def identity(self, id_token: str) -> Principal:
        """The verified ID token: this issuer, this client as audience, not expired."""
        if not self.id_tokens.jwks_url:
            await self.metadata()
        try:
            return await self.id_tokens.verify(id_token)
        except Unauthorized as exc:
            raise LoginRefused("Das ID-Token des Anmeldedienstes ist ungültig oder abgelaufen.") from exc

    async def logout_url(self, id_token: str | None) -> str | None:
        """RP-initiated logout (OIDC RP-Initiated Logout 1.0): the provider ends its session too."""
        try:
            metadata = await self.metadata()
        except LoginUnavailable:
            return None
        if not metadata.end_session_endpoint:
            return None
        query = {"client_id": self.client_id, "post_logout_redirect_uri": self.post_logout_redirect_uri}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{metadata.end_session_endpoint}?{urlencode(query)}"
