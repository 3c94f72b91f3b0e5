"""XSD validation: libxml2 (lxml) decides, xmlschema explains a rejection.

libxml2 validates in C, many times faster than xmlschema (bench/README.md), and is what every
document passes through. Only a document libxml2 rejects is shown to xmlschema, whose findings name the
failing element by its path (`/antrag:antrag.0001/antrag:antragsteller/antrag:vorname`) and the
broken constraint. xmlschema is the reference of the two: where it finds nothing wrong with a
document libxml2 rejected, the document is valid (libxml2 refuses the surrounding whitespace an
`xs:date` may carry). The schemas avoid the pattern constructs libxml2 mis-evaluates (counted
repetitions inside alternatives), and a test compares both validators on many documents.
"""

import threading
from dataclasses import dataclass
from functools import cache
from itertools import islice
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


def _check_namespace(namespace: str) -> str:
    if namespace not in SCHEMA_FILES:
        raise XmlInvalid(
            f"No schema for namespace {namespace!r}.",
            [SchemaViolation("/", "unknown namespace")],
        )
    return SCHEMA_FILES[namespace]


@cache
def _compiled(namespace: str) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(SCHEMA_DIR / SCHEMA_FILES[namespace]))


def schema_for(namespace: str) -> xmlschema.XMLSchema10:
    """The compiled xmlschema XSD of `namespace`; raises XmlInvalid for a namespace we have no schema for."""
    _check_namespace(namespace)
    with _compile_lock:
        return _compiled(namespace)


class _LibxmlSchemas(threading.local):
    """One compiled libxml2 schema per namespace and thread: an XMLSchema keeps the error log of
    its last validation on itself, so threads must not share one."""

    def __init__(self) -> None:
        self.compiled: dict[str, etree.XMLSchema] = {}

    def get(self, namespace: str) -> etree.XMLSchema:
        schema = self.compiled.get(namespace)
        if schema is None:
            # The XSD is ours and trusted; it is parsed like any document all the same.
            document = parse_safely((SCHEMA_DIR / _check_namespace(namespace)).read_bytes())
            schema = self.compiled[namespace] = etree.XMLSchema(document)
        return schema


_libxml = _LibxmlSchemas()


def _namespace(tree: etree._ElementTree) -> str:
    return etree.QName(tree.getroot()).namespace or ""


def validate_tree(tree: etree._ElementTree, *, max_violations: int = 20) -> None:
    """Validate a parsed (or built) document against the schema its root's namespace names."""
    namespace = _namespace(tree)
    if _libxml.get(namespace).validate(tree):
        return
    violations = [
        SchemaViolation(error.path or "/", error.reason or str(error.message))
        for error in islice(schema_for(namespace).iter_errors(tree), max_violations)
    ]
    if violations:
        raise XmlInvalid("The document does not conform to its schema.", violations)


def validate(xml_bytes: bytes) -> etree._ElementTree:
    """Parse safely and validate against the XSD of the document's namespace; returns the tree."""
    tree = parse_safely(xml_bytes)
    validate_tree(tree)
    return tree
