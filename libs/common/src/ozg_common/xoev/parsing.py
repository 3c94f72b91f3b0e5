"""Parsing XML from outside without expanding entities, fetching anything or building huge trees."""

from lxml import etree

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class XmlRejected(ValueError):
    """The document is not well-formed, too large, or declares a DTD or entities."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_safely(document: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._ElementTree:
    """Parse `document`; any DOCTYPE is refused outright, so no entity is ever declared or expanded.

    A billion-laughs or external-entity (XXE) document needs a DTD; refusing the DTD refuses both.
    """
    if len(document) > max_bytes:
        raise XmlRejected(f"The document exceeds {max_bytes} bytes.")
    try:
        root = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRejected(f"The document is not well-formed XML: {exc.msg}") from exc
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRejected("Document type declarations (DTDs, entities) are not accepted.")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise XmlRejected("Entity references are not accepted.")
    return tree
