"""The ozg-antrag message: an application as XML, opened by an XÖV `nachrichtenkopf.g2g`."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree

from ozg_common.xoev.parsing import XmlRejected

ANTRAG_NAMESPACE = "https://schema.ozg-router.de/xoev/antrag/1.0"
MESSAGE_TYPE = "antrag.0001"
DRAFT_TYPE = "antragsentwurf.0001"
MESSAGE_TYPE_LIST = "urn:ozg-router:codeliste:nachrichtentyp"
PRODUCT = "ozg-router"
PRODUCT_VERSION = "1.0"

_NS = "{" + ANTRAG_NAMESPACE + "}"


@dataclass(frozen=True, slots=True)
class Behoerde:
    """An authority or system as a message's reader or author."""

    kennung: str
    name: str


@dataclass(frozen=True, slots=True)
class Anschrift:
    """A postal address; every part optional, as forms collect them differently."""

    strasse: str | None = None
    hausnummer: str | None = None
    postleitzahl: str | None = None
    ort: str | None = None
    staat: str | None = None


@dataclass(frozen=True, slots=True)
class Antragsteller:
    """The applicant."""

    vorname: str
    familienname: str
    geburtsdatum: date | None = None
    email: str | None = None
    telefon: str | None = None
    anschrift: Anschrift | None = None


@dataclass(frozen=True, slots=True)
class Anlage:
    """An attachment, described in the message and carried encrypted beside it."""

    anlage_id: str
    dateiname: str
    mime_type: str
    groesse: int
    sha512: str


@dataclass(frozen=True, slots=True)
class Antrag:
    """Everything an ozg-antrag 1.0 message says."""

    nachricht_uuid: str
    erstellungszeitpunkt: datetime
    leser: Behoerde
    autor: Behoerde
    case_id: str
    submission_id: str
    destination_id: str
    leika_key: str
    leistung_name: str
    antragsteller: Antragsteller
    antragsdaten: Mapping[str, Any]
    ars: str | None = None
    gebiet_name: str | None = None
    referenz_uuid: str | None = None
    anlagen: Sequence[Anlage] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Antragsentwurf:
    """What a form that renders its own XML sends: the route is still to be resolved."""

    leika_key: str
    antragsteller: Antragsteller
    antragsdaten: dict[str, Any]
    ars: str | None = None
    ags: str | None = None
    destination_signature: str | None = None
    referenz: str | None = None


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _NS + name)
    if text is not None:
        element.text = text
    return element


def _optional(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, name, text)


def _value(parent: etree._Element, value: Any) -> None:
    """One JSON value, its type kept in the element name."""
    if value is None:
        _sub(parent, "leer")
    elif isinstance(value, bool):
        _sub(parent, "wahrheitswert", "true" if value else "false")
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("form data numbers must be finite")
        _sub(parent, "zahl", repr(value))
    elif isinstance(value, str):
        _sub(parent, "text", value)
    elif isinstance(value, Mapping):
        _object(_sub(parent, "objekt"), value)
    elif isinstance(value, list | tuple):
        liste = _sub(parent, "liste")
        for item in value:
            _value(_sub(liste, "eintrag"), item)
    else:
        raise ValueError(f"cannot render a {type(value).__name__} as form data")


def _object(element: etree._Element, data: Mapping[str, Any]) -> None:
    for name, value in data.items():
        feld = _sub(element, "feld")
        feld.set("name", name)
        _value(feld, value)


def _behoerde(parent: etree._Element, name: str, behoerde: Behoerde) -> None:
    element = _sub(parent, name)
    _sub(element, "kennung", behoerde.kennung)
    _sub(element, "name", behoerde.name)


def _antragsteller(parent: etree._Element, person: Antragsteller) -> None:
    element = _sub(parent, "antragsteller")
    _sub(element, "vorname", person.vorname)
    _sub(element, "familienname", person.familienname)
    _optional(element, "geburtsdatum", person.geburtsdatum.isoformat() if person.geburtsdatum else None)
    _optional(element, "email", person.email)
    _optional(element, "telefon", person.telefon)
    if person.anschrift is not None:
        address = _sub(element, "anschrift")
        a = person.anschrift
        for name, text in (
            ("strasse", a.strasse),
            ("hausnummer", a.hausnummer),
            ("postleitzahl", a.postleitzahl),
            ("ort", a.ort),
            ("staat", a.staat),
        ):
            _optional(address, name, text)


def build_antrag(antrag: Antrag) -> etree._ElementTree:
    """The message as a tree, to validate before `serialize`. Raises ValueError for text XML cannot
    carry (control characters)."""
    root = etree.Element(_NS + MESSAGE_TYPE, nsmap={"antrag": ANTRAG_NAMESPACE})
    root.set("produkt", PRODUCT)
    root.set("produktversion", PRODUCT_VERSION)
    root.set("standard", "ozg-antrag")
    root.set("version", "1.0")
    kopf = _sub(root, "nachrichtenkopf.g2g")
    identifikation = _sub(kopf, "identifikation.nachricht")
    _sub(identifikation, "nachrichtenUUID", antrag.nachricht_uuid)
    typ = _sub(identifikation, "nachrichtentyp")
    typ.set("listURI", MESSAGE_TYPE_LIST)
    typ.set("listVersionID", "1.0")
    _sub(typ, "code", MESSAGE_TYPE)
    _sub(identifikation, "erstellungszeitpunkt", antrag.erstellungszeitpunkt.isoformat())
    _behoerde(kopf, "leser", antrag.leser)
    _behoerde(kopf, "autor", antrag.autor)
    _optional(kopf, "referenzUUID", antrag.referenz_uuid)

    vorgang = _sub(root, "vorgang")
    _sub(vorgang, "caseId", antrag.case_id)
    _sub(vorgang, "submissionId", antrag.submission_id)
    _sub(vorgang, "destinationId", antrag.destination_id)
    leistung = _sub(vorgang, "leistung")
    _sub(leistung, "leikaKey", antrag.leika_key)
    _sub(leistung, "bezeichnung", antrag.leistung_name)
    if antrag.ars is not None:
        gebiet = _sub(vorgang, "gebiet")
        _sub(gebiet, "ars", antrag.ars)
        _optional(gebiet, "name", antrag.gebiet_name)

    _antragsteller(root, antrag.antragsteller)
    _object(_sub(root, "antragsdaten"), antrag.antragsdaten)
    if antrag.anlagen:
        anlagen = _sub(root, "anlagen")
        for anlage in antrag.anlagen:
            element = _sub(anlagen, "anlage")
            _sub(element, "anlageId", anlage.anlage_id)
            _sub(element, "dateiname", anlage.dateiname)
            _sub(element, "mimeType", anlage.mime_type)
            _sub(element, "groesse", str(anlage.groesse))
            _sub(element, "sha512", anlage.sha512)
    return etree.ElementTree(root)


def serialize(tree: etree._ElementTree) -> bytes:
    """A document as UTF-8 XML with its declaration."""
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def render_antrag(antrag: Antrag) -> bytes:
    """The message as UTF-8 XML. Raises ValueError for text XML cannot carry (control characters)."""
    return serialize(build_antrag(antrag))


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else (element.text or "")


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(_NS + name)


def _read_value(element: etree._Element) -> Any:
    kind = etree.QName(element).localname
    text = element.text or ""
    if kind == "leer":
        return None
    if kind == "wahrheitswert":
        return text.strip() in {"true", "1"}
    if kind == "zahl":
        number = float(text)
        return int(number) if number.is_integer() and not any(c in text for c in ".eE") else number
    if kind == "text":
        return text
    if kind == "objekt":
        return _read_object(element)
    if kind == "liste":
        return [_read_value(eintrag[0]) for eintrag in element]
    raise XmlRejected(f"unexpected element {kind}")


def _read_object(element: etree._Element) -> dict[str, Any]:
    return {feld.get("name", ""): _read_value(feld[0]) for feld in element}


def _read_date(text: str | None) -> date | None:
    """A schema-valid xs:date (whitespace collapsed, timezone optional) as a date."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise XmlRejected(f"The date {value!r} lies outside the years 1 to 9999.") from exc


def _read_antragsteller(element: etree._Element) -> Antragsteller:
    anschrift = _child(element, "anschrift")
    return Antragsteller(
        vorname=_text(_child(element, "vorname")) or "",
        familienname=_text(_child(element, "familienname")) or "",
        geburtsdatum=_read_date(_text(_child(element, "geburtsdatum"))),
        email=_text(_child(element, "email")),
        telefon=_text(_child(element, "telefon")),
        anschrift=Anschrift(
            strasse=_text(_child(anschrift, "strasse")),
            hausnummer=_text(_child(anschrift, "hausnummer")),
            postleitzahl=_text(_child(anschrift, "postleitzahl")),
            ort=_text(_child(anschrift, "ort")),
            staat=_text(_child(anschrift, "staat")),
        )
        if anschrift is not None
        else None,
    )


def read_antragsentwurf(tree: etree._ElementTree) -> Antragsentwurf:
    """Read a schema-valid `antragsentwurf.0001` document (validate it first)."""
    root = tree.getroot()
    if root.tag != _NS + DRAFT_TYPE:
        raise XmlRejected(f"Expected an {DRAFT_TYPE} document in namespace {ANTRAG_NAMESPACE}.")
    antragsteller = _child(root, "antragsteller")
    antragsdaten = _child(root, "antragsdaten")
    if antragsteller is None or antragsdaten is None:
        raise XmlRejected("The draft lacks its applicant or form data.")
    return Antragsentwurf(
        leika_key=_text(_child(root, "leikaKey")) or "",
        ars=_text(_child(root, "ars")),
        ags=_text(_child(root, "ags")),
        destination_signature=_text(_child(root, "destinationSignature")),
        referenz=_text(_child(root, "referenz")),
        antragsteller=_read_antragsteller(antragsteller),
        antragsdaten=_read_object(antragsdaten),
    )
