"""XÖV validation: libxml2's fast verdict agrees with xmlschema's, the reference, on many documents."""

import copy
import uuid
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from ozg_common import xoev
from ozg_common.xoev.validation import schema_for

NS = "{" + xoev.ANTRAG_NAMESPACE + "}"

ANTRAG = xoev.Antrag(
    nachricht_uuid=str(uuid.uuid4()),
    erstellungszeitpunkt=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    leser=xoev.Behoerde("amt-kiel", "Amt Kiel"),
    autor=xoev.Behoerde("ozg-router", "ozg-router"),
    case_id=str(uuid.uuid4()),
    submission_id=str(uuid.uuid4()),
    destination_id="dest-1",
    leika_key="99108008000000",
    leistung_name="Hund anmelden",
    ars="010020000000",
    gebiet_name="Kiel",
    antragsteller=xoev.Antragsteller(
        vorname="Erika",
        familienname="Mustermann",
        geburtsdatum=date(1980, 2, 29),
        email="erika@example.org",
        telefon="+49 431 12345",
        anschrift=xoev.Anschrift("Holstenstraße", "1", "24103", "Kiel", "DE"),
    ),
    antragsdaten={"zahl": 1, "ja": True, "nichts": None, "liste": [1, "x"], "objekt": {"a": 2.5}},
    anlagen=[xoev.Anlage(str(uuid.uuid4()), "nachweis.pdf", "application/pdf", 5, "a" * 128)],
)

# Values for an element's text: valid ones, invalid ones and the edges between them.
CASES: dict[str, list[str]] = {
    "vorname": [
        "Ok",
        "",
        "a\x7fb",
        "a\u0085b",
        "É" * 255,
        "É" * 256,
        " ",
        "a\u200bb",
        "😀" * 255,
        "😀" * 256,
    ],
    "email": ["a@b.c", "a@b", "a b@c.d", "a@@b.c", "ä@ö.de", "a@b.c\n", "x" * 250 + "@b.cd", "a@b.c\u00a0"],
    "postleitzahl": ["24103", "24103!!", "AB-12", "ab12", "12", "12345678901", "２４１０３"],
    "telefon": ["+49 431 123", "12", "+49(0)431/12-3", "abc", "١٢٣٤", "+" + "1" * 40, "1" * 41],
    "staat": ["DE", "de", "DEU", "ÄÖ", "D"],
    "hausnummer": ["1", "", "x" * 20, "x" * 21],
    "erstellungszeitpunkt": [
        "2024-01-01T10:00:00+00:00",
        "2024-01-01T10:00:00",
        "2024-13-01T10:00:00Z",
        "2024-02-30T10:00:00Z",
        "2024-01-01T10:00:00.123456+00:00",
        "2024-01-01T10:00:00+15:00",
    ],
    "geburtsdatum": ["2000-01-01", "2000-02-30", "2000-1-1", "2000-01-01Z", "1900-02-29"],
    "leikaKey": ["99108008000000", "9910800800000", "991080080000000", "99١08008000000", "12345678901234"],
    "ars": [
        *("0" * n for n in range(1, 14)),
        "01002000000a",
    ],
    "zahl": ["1", "1.5", "1e10", "INF", "-INF", "NaN", "nan", "+1", "1.", ".5", "0x1", "1,5", ""],
    "wahrheitswert": ["true", "false", "1", "0", "TRUE", "yes"],
    "groesse": ["0", "-1", "+5", "1.0", "99999999999999999999999"],
    "nachrichtenUUID": ["0c9f1e3a-1b2c-4d5e-8f90-123456789abc", "0C9F1E3A-1B2C-4D5E-8F90-123456789ABC", "x"],
    "mimeType": ["application/pdf", "a/b+c", "a b/c", "a/b/c", "äpp/x"],
    "sha512": ["a" * 128, "A" * 128, "a" * 127],
    "bezeichnung": ["x" * 1024, "x" * 1025, ""],
}


def _variants() -> list[tuple[str, str]]:
    return [(element, value) for element, values in CASES.items() for value in values]


@pytest.mark.parametrize(("element", "value"), _variants())
def test_the_fast_verdict_is_the_reference_verdict(element: str, value: str) -> None:
    tree = copy.deepcopy(xoev.build_antrag(ANTRAG))
    target = tree.getroot().find(".//" + NS + element)
    assert target is not None
    target.text = value
    if schema_for(xoev.ANTRAG_NAMESPACE).is_valid(tree):
        xoev.validate_tree(tree)
    else:
        with pytest.raises(xoev.XmlInvalid) as raised:
            xoev.validate_tree(tree)
        assert raised.value.violations, "a rejection names what is wrong"


def test_a_rejection_names_the_element_and_the_constraint() -> None:
    tree = xoev.build_antrag(ANTRAG)
    postleitzahl = tree.getroot().find(f".//{NS}anschrift/{NS}postleitzahl")
    assert postleitzahl is not None
    postleitzahl.text = "24103!!"
    with pytest.raises(xoev.XmlInvalid) as raised:
        xoev.validate_tree(tree)
    [violation] = raised.value.violations
    assert violation.path == "/antrag:antrag.0001/antrag:antragsteller/antrag:anschrift/antrag:postleitzahl"
    assert "pattern" in violation.reason


def test_the_rendered_message_is_valid_and_parses_back_the_same() -> None:
    xml = xoev.render_antrag(ANTRAG)
    tree = xoev.validate(xml)
    assert etree.tostring(tree) == etree.tostring(xoev.build_antrag(ANTRAG))
