"""XSD validation of the XÖV data, with the suite's schemas (chosen by the root's namespace)."""

from ozg_common.xoev import XmlInvalid, XmlRejected, validate


def findings(xml: bytes) -> list[str]:
    """What is wrong with `xml` against the XSD of its namespace; empty when it is valid."""
    try:
        validate(xml)
    except XmlInvalid as exc:
        return [f"{v.path}: {v.reason}" for v in exc.violations] or [str(exc)]
    except XmlRejected as exc:
        return [f"not acceptable XML: {exc}"]
    return []
