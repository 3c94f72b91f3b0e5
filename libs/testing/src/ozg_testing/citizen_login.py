"""The citizen OIDC provider deploy/local/oidc.sh runs (NAV's mock-oauth2-server), as the mailbox's IdP."""

import subprocess

from ozg_common.settings import PROJECT_ROOT

OIDC_SCRIPT = PROJECT_ROOT / "deploy" / "local" / "oidc.sh"
CITIZEN_CLIENT_ID = "ozg-mailbox"
"""The mailbox web page's client id, and the audience deploy/local/oidc/config.json writes."""


def provider_issuer() -> str:
    """The citizen issuer of the local provider, started first if it is not running."""
    subprocess.run([str(OIDC_SCRIPT), "up"], check=True, capture_output=True, timeout=300)
    url = subprocess.run([str(OIDC_SCRIPT), "url"], check=True, capture_output=True, text=True).stdout
    return url.strip()


def mailbox_citizen_settings(issuer: str) -> dict[str, str]:
    """The mailbox settings (without prefix) under which citizens log in at `issuer`, web page and API."""
    return {
        "CITIZEN_ISSUER": issuer,
        "CITIZEN_AUDIENCE": CITIZEN_CLIENT_ID,
        # mock-oauth2-server writes `typ: JWT` on every token; the audience sets access tokens apart.
        "CITIZEN_TOKEN_TYPES": "*",
        "CITIZEN_OIDC_CLIENT_ID": CITIZEN_CLIENT_ID,
    }
