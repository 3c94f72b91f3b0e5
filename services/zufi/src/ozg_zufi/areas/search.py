"""Area search by name (case- and umlaut-insensitive, `*` wildcard) or by postal code."""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ozg_zufi import identifiers
from ozg_zufi.errors import InvalidAreaQuery
from ozg_zufi.routing.index import AreaNode

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_PLAIN_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_DIGITS_AND_WILDCARDS = re.compile(r"[\d*]+")
# The Routing API's pattern of a term: wildcards only around runs of at least two other characters.
_TERM = re.compile(r"(\*?([^*]{2,})\*?)*")
MAX_TERMS = 10


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lübeck, LUEBECK, luebeck → `luebeck`."""
    return _strip_accents(unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS))


def fold_plain(text: str) -> str:
    """Lübeck → `lubeck`, so that a query typed without umlauts finds it too."""
    return _strip_accents(unicodedata.normalize("NFC", text).casefold().translate(_PLAIN_UMLAUTS))


@dataclass(frozen=True, slots=True)
class _Entry:
    forms: tuple[str, ...]
    area: AreaNode


class AreaSearch:
    """Name forms of every area, and the postal codes, ready to match."""

    def __init__(self, areas: Iterable[AreaNode], postal_codes: Mapping[str, tuple[str, ...]]) -> None:
        self.areas = {area.ars: area for area in areas}
        self.postal_codes = postal_codes
        self.entries = [_Entry(self._forms(area.name), area) for area in self.areas.values()]
        self.entries.sort(key=lambda entry: (entry.forms[0], entry.area.ars))

    @staticmethod
    def _forms(name: str) -> tuple[str, ...]:
        # "Kiel, Landeshauptstadt" is also found as "Kiel".
        names = [name, name.split(",")[0]] if "," in name else [name]
        forms = [form for n in names for form in (fold(n), fold_plain(n))]
        return tuple(dict.fromkeys(form.strip() for form in forms))

    def find_all(self, terms: list[str]) -> list[AreaNode]:
        """Every area each of the (1 to 10) terms finds, in the first term's order."""
        if not 1 <= len(terms) <= MAX_TERMS:
            raise InvalidAreaQuery(f"Give 1 to {MAX_TERMS} areaSearchexpression terms, not {len(terms)}.")
        for term in terms:
            if not _TERM.fullmatch(term.strip()):
                raise InvalidAreaQuery(
                    f"{term!r}: a term needs at least two characters between its * wildcards."
                )
        found = self.find(terms[0])
        for term in terms[1:]:
            also = {area.ars for area in self.find(term)}
            found = [area for area in found if area.ars in also]
        return found

    def find(self, expression: str) -> list[AreaNode]:
        """Every area whose name or postal code matches, name-sorted."""
        expression = expression.strip()
        if not expression or not expression.strip("*"):
            raise InvalidAreaQuery("areaSearchexpression needs at least one letter or digit.")
        if _DIGITS_AND_WILDCARDS.fullmatch(expression):
            return self._by_postal_code(expression)
        pattern = self._pattern(fold(expression))
        return [entry.area for entry in self.entries if any(pattern.fullmatch(f) for f in entry.forms)]

    def _by_postal_code(self, expression: str) -> list[AreaNode]:
        if "*" not in expression:
            codes = [identifiers.postal_code(expression)]
        else:
            pattern = self._pattern(expression)
            codes = sorted(code for code in self.postal_codes if pattern.fullmatch(code))
        found = dict.fromkeys(ars for code in codes for ars in self.postal_codes.get(code, ()))
        return sorted((self.areas[ars] for ars in found), key=lambda area: (fold(area.name), area.ars))

    @staticmethod
    def _pattern(expression: str) -> re.Pattern[str]:
        return re.compile(".*".join(re.escape(part) for part in expression.split("*")))
