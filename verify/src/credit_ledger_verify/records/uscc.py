"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

An 18-character code: registration authority (1), organisation type (1), administrative
division (6 digits), organisation code (9) and a check character (1), over the 31-symbol
alphabet ``0-9A-HJ-NPQRTUWXY`` (no I, O, S, V, Z). The check character makes
``sum(value(c_i) * 3**(i-1) mod 31) + value(check) ≡ 0 (mod 31)``.
"""

from __future__ import annotations

import functools
import re

__all__ = ["USCC_ALPHABET", "USCC_PATTERN", "uscc_check_character", "uscc_problem"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"

_VALUES = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_FORMAT = re.compile(USCC_PATTERN)


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code.

    Raises:
        ValueError: if ``first17`` is not 17 characters from the code alphabet.
    """
    if len(first17) != 17:
        raise ValueError(f"need the first 17 characters of a code, got {len(first17)}")
    bad = [c for c in first17 if c not in _VALUES]
    if bad:
        raise ValueError(f"character {bad[0]!r} is not in the code alphabet")
    total = sum(_VALUES[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Return why ``code`` is not a valid unified social credit code, or ``None`` if it is."""
    if len(code) == 18:
        # Codes repeat (an enterprise's records, a bulk request's records): cached, and only
        # at the one valid length, so a caller cannot fill the cache with long strings.
        return _uscc_problem_cached(code)
    return _uscc_problem(code)


def _uscc_problem(code: str) -> str | None:
    if not _FORMAT.fullmatch(code):
        return (
            "must be an 18-character unified social credit code "
            "(digits and upper-case letters except I, O, S, V, Z; characters 3-8 digits)"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, GB 32100-2015 gives {expected!r}"
    return None


_uscc_problem_cached = functools.lru_cache(maxsize=65_536)(_uscc_problem)
