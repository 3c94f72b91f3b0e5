"""XSD validation with xmlschema; one compiled schema per namespace, built once per process."""

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

from ozg_common.xoev.parsing import parse_safely

SCHEMA_DIR = Path(__file__).parent / "schemas"

SCHEMA_FILES: dict[str, str] = {
    "https://schema.ozg-router.de/xoev/antrag/1.0": "ozg-antrag-1.0.xsd",
}
"""Namespace → XSD file: a new version is a new namespace and a new file beside the old."""

_compile_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """Where the document breaks its schema, and how."""

    path: str
    reason: str


class XmlInvalid(ValueError):
    """The document does not conform to the XSD of its namespace."""

    def __init__(self, message: str, violations: list[SchemaViolation]) -> None:
        super().__init__(message)
        self.violations = violations


@cache
def _compiled(namespace: str) -> xmlschema.XMLSchema10:
    filename = SCHEMA_FILES[namespace]
    return xmlschema.XMLSchema10(str(SCHEMA_DIR / filename))


def schema_for(namespace: str) -> xmlschema.XMLSchema10:
    """The compiled XSD of `namespace`; raises XmlInvalid for a namespace we have no schema for."""
    if namespace not in SCHEMA_FILES:
        raise XmlInvalid(
            f"No schema for namespace {namespace!r}.",
            [SchemaViolation("/", "unknown namespace")],
        )
    with _compile_lock:
        return _compiled(namespace)


def _namespace(tree: etree._ElementTree) -> str:
    return etree.QName(tree.getroot()).namespace or ""


def validate_tree(tree: etree._ElementTree, *, max_violations: int = 20) -> None:
    """Validate a parsed document against the schema its root's namespace names."""
    schema = schema_for(_namespace(tree))
    violations: list[SchemaViolation] = []
    for error in schema.iter_errors(tree):
        violations.append(SchemaViolation(error.path or "/", error.reason or str(error.message)))
        if len(violations) >= max_violations:
            break
    if violations:
        raise XmlInvalid("The document does not conform to its schema.", violations)


def validate(xml_bytes: bytes) -> etree._ElementTree:
    """Parse safely and validate against the XSD of the document's namespace; returns the tree."""
    tree = parse_safely(xml_bytes)
    validate_tree(tree)
    return tree
