"""FIT-Connect metadata the suite writes: which version a destination gets, and every document
checked against the published JSON Schema of its version before it is encrypted.

The schemas in `metadata-schemas/<version>/` are FITKO's published files, byte for byte.
"""

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from ozg_common.contracts.zufi import METADATA_VERSIONS
from ozg_common.problems import InvalidParam
from ozg_submission.errors import MetadataInvalid, MetadataVersionNotTaken

_SCHEMA_URI = re.compile(
    r"^https://schema\.fitko\.de/fit-connect/metadata/(\d+\.\d+\.\d+)/metadata\.schema\.json$"
)
_PAYMENT_STATUS = {"PAYED": "BOOKED"}
"""XBezahldienste's status → FIT-Connect's where they name the same state differently (paid)."""
_MAX_PROBLEMS = 50


def schema_uri(version: str) -> str:
    """The `$schema` of a metadata document of `version`."""
    return f"https://schema.fitko.de/fit-connect/metadata/{version}/metadata.schema.json"


def version_for(destination_id: str, taken: list[str]) -> str:
    """The newest version the suite writes among those the destination takes (`metadataVersions`)."""
    for version in METADATA_VERSIONS:
        if version in taken:
            return version
    raise MetadataVersionNotTaken(
        f"Destination {destination_id} takes metadata versions {', '.join(taken) or '(none)'}; "
        f"the suite writes {', '.join(METADATA_VERSIONS)}."
    )


def payment_information(xbezahldienste: dict[str, Any]) -> dict[str, Any]:
    """The payment service's paymentInformation (XBezahldienste) as FIT-Connect metadata carries it:
    the same members, the status in FIT-Connect's words."""
    status = xbezahldienste.get("status")
    if isinstance(status, str) and status in _PAYMENT_STATUS:
        return xbezahldienste | {"status": _PAYMENT_STATUS[status]}
    return xbezahldienste


@cache
def _validator(version: str) -> Draft202012Validator:
    """The published schema of `version`, compiled once (compiling costs more than validating)."""
    schema = json.loads(
        (resources.files(__package__) / "metadata-schemas" / version / "metadata.schema.json").read_bytes()
    )
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(document: dict[str, Any]) -> None:
    """`document` conforms to the published schema of the version its `$schema` names, or
    MetadataInvalid names what does not (replyChannel and paymentInformation included)."""
    uri = document.get("$schema")
    found = _SCHEMA_URI.match(uri) if isinstance(uri, str) else None
    if found is None or found.group(1) not in METADATA_VERSIONS:
        raise MetadataInvalid(
            f"The metadata's $schema {uri!r} names no version the suite writes "
            f"({', '.join(METADATA_VERSIONS)}).",
            invalid_params=[InvalidParam(name="$schema", reason="unknown metadata version")],
        )
    errors = sorted(
        _validator(found.group(1)).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        raise MetadataInvalid(
            f"The metadata does not conform to FIT-Connect metadata {found.group(1)}.",
            invalid_params=[
                InvalidParam(name=".".join(str(p) for p in error.absolute_path) or "$", reason=error.message)
                for error in errors[:_MAX_PROBLEMS]
            ],
        )
