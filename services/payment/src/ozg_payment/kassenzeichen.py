"""Kassenzeichen: the readable reference under which the authority's cash office books a payment.

Format `YYNN-NNNN-NNNN-CC`: the year, ten random digits and two ISO 7064 MOD 97-10 check digits
(the IBAN scheme), which catch every single wrong digit and every swap of two neighbours.
"""

import re
import secrets
from datetime import UTC, datetime

_FORMAT = re.compile(r"^(\d{4})-(\d{4})-(\d{4})-(\d{2})$")


def _check_digits(body: str) -> str:
    return f"{98 - int(body) * 100 % 97:02d}"


def new_kassenzeichen(now: datetime | None = None) -> str:
    """A fresh Kassenzeichen (random, so uniqueness is checked by the database)."""
    year = (now or datetime.now(UTC)).year % 100
    body = f"{year:02d}{secrets.randbelow(10**10):010d}"
    digits = body + _check_digits(body)
    return f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:14]}"


def is_valid_kassenzeichen(value: str) -> bool:
    """True when `value` is well-formed and its check digits match."""
    match = _FORMAT.match(value)
    if not match:
        return False
    digits = "".join(match.groups())
    return int(digits) % 97 == 1
