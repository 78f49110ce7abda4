"""RFC 8785 (JSON Canonicalization Scheme) serialisation of ledger values.

Records are hashed, signed and committed over these bytes, so the same logical value must
always give the same bytes. Floats are refused outright: binary floating point cannot carry
decimal amounts exactly, and ECMAScript number formatting is a classic source of
cross-implementation hash mismatches. Decimals travel as strings instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785

from ledger_service.errors import CanonicalizationError

__all__ = ["MAX_SAFE_INTEGER", "canonicalize"]

#: Largest integer that every JSON implementation represents exactly (2**53 - 1, I-JSON).
MAX_SAFE_INTEGER = 2**53 - 1


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 JSON bytes of ``obj``.

    ``obj`` may contain only ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``
    (within ±(2**53 - 1)), ``bool`` and ``None``.

    Raises:
        CanonicalizationError: naming the JSON path of the first offending value, for a float,
            an out-of-range integer, a non-string key, a lone surrogate or an unsupported type.
    """
    _check_value(obj, "$")
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:  # pre-check should make this unreachable
        raise CanonicalizationError("$", str(exc)) from exc


def _check_value(value: Any, path: str) -> None:
    # Walk first so the error can say *where* the bad value is; rfc8785 does not.
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_string(value, path)
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(
                path, f"integer {value} is outside ±(2**53 - 1); send it as a decimal string"
            )
        return
    if isinstance(value, float):
        raise CanonicalizationError(
            path, f"floats are not allowed ({value!r}); send decimal numbers as strings"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(
                    path, f"object keys must be strings, got {type(key).__name__} {key!r}"
                )
            _check_string(key, f"{path}.{key}")
            _check_value(item, f"{path}.{key}")
        return
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")
        return
    raise CanonicalizationError(path, f"{type(value).__name__} is not a JSON value")


def _check_string(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(path, "string contains a lone surrogate") from exc
