"""The keys citizens and senders name things by: LeiKa key, ARS, AGS, postal code."""

import re

from ozg_zufi.errors import InvalidAreaKey, InvalidLeikaKey, InvalidPostalCode

LEIKA_URN_PREFIX = "urn:de:fim:leika:leistung:"
_LEIKA = re.compile(r"99\d{12}")
_ARS = re.compile(r"\d{2}|\d{3}|\d{5}|\d{9}|\d{12}")
_AGS = re.compile(r"\d{2}|\d{3}|\d{5}|\d{8}")
_POSTAL_CODE = re.compile(r"\d{5}")


def leika_key(value: str) -> str:
    """`99050035001000` or `urn:de:fim:leika:leistung:99050035001000` → the bare key."""
    key = value.strip()
    if key.lower().startswith(LEIKA_URN_PREFIX):
        key = key[len(LEIKA_URN_PREFIX) :]
    if not _LEIKA.fullmatch(key):
        raise InvalidLeikaKey(f"{value!r} is not a LeiKa key (99 followed by 12 digits).")
    return key


def ars(value: str) -> str:
    """An Amtlicher Regionalschlüssel of 2, 3, 5, 9 or 12 digits."""
    if not _ARS.fullmatch(value):
        raise InvalidAreaKey(f"{value!r} is not an ARS (2, 3, 5, 9 or 12 digits).")
    return value


def ags(value: str) -> str:
    """An Amtlicher Gemeindeschlüssel: a Gemeinde's 8 digits, or the 2, 3 or 5 of its Land,
    Regierungsbezirk or Kreis (which are that area's ARS too)."""
    if not _AGS.fullmatch(value):
        raise InvalidAreaKey(f"{value!r} is not an AGS (2, 3, 5 or 8 digits).")
    return value


def postal_code(value: str) -> str:
    """A German postal code: 5 digits."""
    if not _POSTAL_CODE.fullmatch(value):
        raise InvalidPostalCode(f"{value!r} is not a postal code (5 digits).")
    return value
