"""Published standards documents, byte for byte, for tests that validate our output against them."""

import hashlib
import re
from pathlib import Path

PUBLISHED = Path(__file__).resolve().parent / "published"
"""Copies of `shared/standards` (sources, licences and SHA-256 sums in `fit-connect/README.md`)."""
FIT_CONNECT = PUBLISHED / "fit-connect"
ROUTING_API = FIT_CONNECT / "routing-api" / "2.0.0" / "routing-api.yaml"
"""FITKO's Routingdienst API 2.0.0 (OpenAPI 3.0.0)."""


def published_checksums() -> dict[Path, str]:
    """Each copied file and the SHA-256 its README states for the published original."""
    readme = (FIT_CONNECT / "README.md").read_text(encoding="utf-8")
    return {
        FIT_CONNECT / name: digest
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, flags=re.MULTILINE)
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
