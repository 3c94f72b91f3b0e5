"""Reads the Gemeindeverzeichnis (Destatis GV-ISys) and the postal code mapping (OpenStreetMap).

The files use a byte-order mark, spaces as thousands separators and quoted decimal commas.
"""

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

GV_FILE = "gv-auszug.csv"
POSTAL_CODE_FILE = "plz-ort-landkreis.csv"

LAND = "LAND"
REGIERUNGSBEZIRK = "REGIERUNGSBEZIRK"
KREIS = "KREIS"
GEMEINDEVERBAND = "GEMEINDEVERBAND"
GEMEINDE = "GEMEINDE"

KINDS: dict[int, str] = {
    41: "kreisfreie Stadt",
    42: "Stadtkreis",
    43: "Kreis",
    44: "Landkreis",
    45: "Regionalverband",
    50: "verbandsfreie Gemeinde",
    51: "Amt",
    52: "Samtgemeinde",
    53: "Verbandsgemeinde",
    54: "Verwaltungsgemeinschaft",
    55: "Kirchspielslandgemeinde",
    56: "Verwaltungsverband",
    58: "erfüllende Gemeinde",
    60: "Markt",
    61: "kreisfreie Stadt",
    62: "Stadtkreis",
    63: "Stadt",
    64: "kreisangehörige Gemeinde",
    65: "gemeindefreies bewohntes Gebiet",
    66: "gemeindefreies unbewohntes Gebiet",
    67: "große Kreisstadt",
}


@dataclass
class AreaRecord:
    """One row of the area table, as the import writes it."""

    ars: str
    name: str
    type: str
    kind: str
    kind_code: int | None = None
    parent_ars: str | None = None
    ags: str | None = None
    postal_code: str | None = None
    population: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def row(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class AreaData:
    """Everything the import read: the areas and the (postal code, Gemeinde ARS) pairs."""

    areas: list[AreaRecord] = field(default_factory=list)
    postal_codes: set[tuple[str, str]] = field(default_factory=set)
    skipped_postal_rows: int = 0


def parse_int(text: str) -> int | None:
    """`"1 847 253"` → 1847253; empty → None."""
    digits = text.replace(" ", "").replace("\u00a0", "")
    return int(digits) if digits.isdigit() else None


def parse_decimal(text: str) -> float | None:
    """`"9,43751"` → 9.43751; empty or garbage → None."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        return float(cleaned) if cleaned else None
    except ValueError:
        return None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {key.strip(): (value or "").strip() for key, value in row.items() if key}


def read_area_data(directory: Path) -> AreaData:
    """Parse both files of `directory` into areas with their parent chain and postal codes."""
    data = AreaData()
    known: set[str] = set()
    ags_to_ars: dict[str, str] = {}

    def parent_of(*candidates: str) -> str | None:
        return next((c for c in candidates if c in known), None)

    for row in _rows(directory / GV_FILE):
        record_kind = row["satzart"]
        code = parse_int(row["textkennzeichen"])
        land, rb, kreis = row["land"].zfill(2), row["rb"], row["kreis"]
        name = row["gemeindename"]
        kreis_ars = f"{land}{rb}{kreis}"
        if record_kind == "10":
            record = AreaRecord(ars=land, name=name, type=LAND, kind="Land")
        elif record_kind == "20":
            record = AreaRecord(
                ars=land + rb, name=name, type=REGIERUNGSBEZIRK, kind="Regierungsbezirk", parent_ars=land
            )
        elif record_kind == "40":
            record = AreaRecord(
                ars=kreis_ars,
                name=name,
                type=KREIS,
                kind=KINDS.get(code or 0, "Kreis"),
                kind_code=code,
                parent_ars=parent_of(land + rb, land),
            )
        elif record_kind == "50":
            record = AreaRecord(
                ars=kreis_ars + row["vb"],
                name=name,
                type=GEMEINDEVERBAND,
                kind=KINDS.get(code or 0, "Gemeindeverband"),
                kind_code=code,
                parent_ars=parent_of(kreis_ars, land + rb, land),
            )
        elif record_kind == "60":
            gemeinde = row["gemeinde"]
            record = AreaRecord(
                ars=kreis_ars + row["vb"] + gemeinde,
                ags=kreis_ars + gemeinde,
                name=name,
                type=GEMEINDE,
                kind=KINDS.get(code or 0, "Gemeinde"),
                kind_code=code,
                parent_ars=parent_of(kreis_ars + row["vb"], kreis_ars, land),
                postal_code=row["postleitzahl"] or None,
                population=parse_int(row["bevoelkerung"]),
                longitude=parse_decimal(row["laengengrad"]),
                latitude=parse_decimal(row["breitengrad"]),
            )
            ags_to_ars[record.ags or ""] = record.ars
            if record.postal_code:
                data.postal_codes.add((record.postal_code, record.ars))
        else:
            # 30 = Region: a planning region, no administrative level of its own.
            continue
        known.add(record.ars)
        data.areas.append(record)

    for row in _rows(directory / POSTAL_CODE_FILE):
        ars = ags_to_ars.get(row["ags"].zfill(8))
        postal_code = row["plz"].zfill(5)
        if ars is None or not postal_code.isdigit() or len(postal_code) != 5:
            data.skipped_postal_rows += 1
            continue
        data.postal_codes.add((postal_code, ars))
    if data.skipped_postal_rows:
        logger.info(
            "postal code rows without a Gemeinde of the directory skipped",
            extra={"rows": data.skipped_postal_rows},
        )
    return data
