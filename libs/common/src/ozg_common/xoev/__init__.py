"""XÖV-style XML: schemas versioned by namespace, a renderer, a validator and a safe parser."""

from ozg_common.xoev.antrag import (
    ANTRAG_NAMESPACE,
    Anlage,
    Anschrift,
    Antrag,
    Antragsentwurf,
    Antragsteller,
    Behoerde,
    build_antrag,
    read_antragsentwurf,
    render_antrag,
    serialize,
)
from ozg_common.xoev.parsing import MAX_DOCUMENT_BYTES, XmlRejected, parse_safely
from ozg_common.xoev.validation import SchemaViolation, XmlInvalid, schema_for, validate, validate_tree

__all__ = [
    "ANTRAG_NAMESPACE",
    "MAX_DOCUMENT_BYTES",
    "Anlage",
    "Anschrift",
    "Antrag",
    "Antragsentwurf",
    "Antragsteller",
    "Behoerde",
    "SchemaViolation",
    "XmlInvalid",
    "XmlRejected",
    "build_antrag",
    "parse_safely",
    "read_antragsentwurf",
    "render_antrag",
    "schema_for",
    "serialize",
    "validate",
    "validate_tree",
]
