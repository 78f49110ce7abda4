"""RFC 8785 (JSON Canonicalization Scheme) serialisation of ledger values.

Records are hashed, signed and committed over these bytes, so the same logical value must
always give the same bytes. Floats are refused outright: binary floating point cannot carry
decimal amounts exactly, and ECMAScript number formatting is a classic source of
cross-implementation hash mismatches. Decimals travel as strings instead.

Two implementations, one output:

* the **fast path** serialises with the standard library's C JSON encoder
  (``ensure_ascii=False``, no whitespace, sorted keys). For the value domain accepted here
  (``dict``/``list``/``tuple``/``str``/``int`` within ±(2**53 - 1)/``bool``/``None``) that is
  byte-for-byte RFC 8785: the same escapes (``\\" \\\\ \\b \\f \\n \\r \\t``, other controls as
  lower-case ``\\u00xx``, everything else raw UTF-8), integers in plain decimal, no
  whitespace. The one difference is key order: Python sorts by code point, RFC 8785 by UTF-16
  code unit, and the two disagree only when a key holds a character outside the BMP;
* the **reference path** (a walk that names the offending value, then the ``rfc8785``
  package) handles everything else: astral-plane keys, values outside the fast domain
  (subclasses of the built-in types, other mappings or sequences, floats, big integers,
  non-string keys, lone surrogates, very deep nesting) and therefore every error, with its
  precise message.

The fast path is taken only when a cheap pre-walk has proved the value is in its domain; it
never raises for bad input, it hands over to the reference path instead.
``tests/unit/test_canonical_fast*.py`` checks the two agree on generated values.
"""

from __future__ import annotations

import functools
import json
import json.encoder
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rfc8785

from credit_ledger_verify.errors import CanonicalizationError

__all__ = [
    "MAX_SAFE_INTEGER",
    "add_string_member",
    "canonicalize",
    "canonicalize_reference",
]

#: Largest integer that every JSON implementation represents exactly (2**53 - 1, I-JSON).
MAX_SAFE_INTEGER = 2**53 - 1
_MIN_SAFE_INTEGER = -MAX_SAFE_INTEGER

# Containers nested deeper than this take the reference path (which behaves as it always
# did on absurd nesting); records nest four levels at most.
_FAST_MAX_DEPTH = 64


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")  # pre-walk rules it out


def _make_encoder() -> Callable[[Any], str]:
    """The C encoder (sorted keys, no whitespace, raw UTF-8 text, no NaN), built once.

    ``json.dumps`` with keyword arguments builds a ``JSONEncoder`` per call, whose
    ``encode`` builds a C encoder per call again; calling the C encoder directly saves both.
    No circularity check: the pre-walk's depth limit keeps cycles off the fast path.
    """
    reference = json.JSONEncoder(
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        allow_nan=False,
        check_circular=False,
    ).encode
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    c_encode_string = getattr(json.encoder, "c_encode_basestring", None)
    if c_make_encoder is None or c_encode_string is None:  # pragma: no cover - no _json
        return reference
    # (markers, default, string encoder, indent, key separator, item separator,
    #  sort_keys, skipkeys, allow_nan)
    iterencode = c_make_encoder(
        None, _not_json, c_encode_string, None, ":", ",", True, False, False
    )

    def encode(value: Any) -> str:
        return "".join(iterencode(value, 0))

    probe = {"b": [1, True, None, '\u00e9\n\x1f"'], "a": {"\ufb33": "x"}, "": -(2**53) + 1}
    return encode if encode(probe) == reference(probe) else reference  # pragma: no branch


_ENCODE = _make_encoder()


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 JSON bytes of ``obj``.

    ``obj`` may contain only ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``
    (within ±(2**53 - 1)), ``bool`` and ``None``.

    Raises:
        CanonicalizationError: naming the JSON path of the first offending value, for a float,
            an out-of-range integer, a non-string key, a lone surrogate or an unsupported type.
    """
    if _fast_domain(obj, 0):
        try:
            return _ENCODE(obj).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference path names where it is
    return canonicalize_reference(obj)


def canonicalize_reference(obj: Any) -> bytes:
    """:func:`canonicalize` by the reference path only (the ``rfc8785`` package).

    Same result and same errors as :func:`canonicalize`, several times slower; used by
    :func:`canonicalize` for values outside its fast domain, and by tests and benchmarks.
    """
    _check_value(obj, "$")
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:  # pre-check should make this unreachable
        raise CanonicalizationError("$", str(exc)) from exc


# Text that RFC 8785 writes verbatim between quotes: printable ASCII except '"' and '\\'.
_VERBATIM_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


def add_string_member(canonical: bytes, obj: Any, key: str, value: str) -> bytes | None:
    """Return ``canonicalize({**obj, key: value})``, spliced into ``canonical``, or ``None``.

    ``canonical`` must be ``canonicalize(obj)``. Adding one member to an object must not cost
    a second canonicalisation: the new member's place among the sorted top-level keys is
    known, so it is inserted there. ``None`` (the caller canonicalises the whole object
    instead) unless the splice is provably exact:

    * ``obj`` is a ``dict`` without ``key`` and at least one key sorting before it; ``key``
      and every top-level key are ASCII identifiers (ASCII: code point order is UTF-16 order);
    * ``value`` is printable ASCII without ``"`` or ``\\`` (written verbatim, unescaped);
    * every top-level value whose key sorts after ``key`` is a ``str``.

    Why the splice point is found reliably: the new member goes right before the member of
    the smallest key ``k`` sorting after ``key`` (or before the closing brace if there is
    none). Inside JSON string content every ``"`` byte is escaped as ``\\"``, so the bytes
    ``,"k":"`` only ever occur as structure (an object member named ``k``), and after the
    top-level one come only top-level members with string values: the *last* occurrence is
    the top-level one.
    """
    if (
        type(obj) is not dict
        or type(value) is not str
        or type(key) is not str
        or not _VERBATIM_TEXT.fullmatch(value)
    ):
        return None
    plan = _splice_plan(tuple(obj), key)
    if plan is None:
        return None
    following, later = plan
    for other in later:
        if type(obj[other]) is not str:
            return None
    member = b',"' + key.encode("ascii") + b'":"' + value.encode("ascii") + b'"'
    if following is None:
        if not canonical.endswith(b"}"):
            return None
        return canonical[:-1] + member + b"}"
    at = canonical.rfind(b',"' + following.encode("ascii") + b'":"')
    if at < 0:
        return None
    return canonical[:at] + member + canonical[at:]


@functools.lru_cache(maxsize=256)
def _splice_plan(keys: tuple[Any, ...], key: str) -> tuple[str | None, tuple[str, ...]] | None:
    """For :func:`add_string_member`: ``(smallest key after key, keys after key)``, or ``None``
    if the keys do not qualify (depends on the key set only, so it is cached: records have
    a handful of key sets)."""
    if not key.isascii() or not key.isidentifier() or key in keys:
        return None
    has_earlier = False
    later: list[str] = []
    for other in keys:
        if type(other) is not str or not other.isascii() or not other.isidentifier():
            return None
        if other < key:
            has_earlier = True
        else:
            later.append(other)
    if not has_earlier:
        return None
    return (min(later) if later else None), tuple(later)


def _fast_domain(value: Any, depth: int) -> bool:
    """Whether the C encoder gives ``value``'s RFC 8785 form (see the module docstring).

    True for exact built-in ``dict`` (``str`` keys, none with a character beyond U+FFFF),
    ``list``, ``tuple``, ``str``, ``bool``, ``None`` and ``int`` within the safe range, nested
    at most ``_FAST_MAX_DEPTH`` deep. Lone surrogates are left to the final UTF-8 encode.
    """
    kind = type(value)
    if kind is dict:
        if depth >= _FAST_MAX_DEPTH:
            return False
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                return False
            item_kind = type(item)
            if item_kind is str or item_kind is bool or item is None:
                continue
            if item_kind is int:
                if _MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    continue
                return False
            if not _fast_domain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        if depth >= _FAST_MAX_DEPTH:
            return False
        for item in value:
            item_kind = type(item)
            if item_kind is str or item_kind is bool or item is None:
                continue
            if item_kind is int:
                if _MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    continue
                return False
            if not _fast_domain(item, depth + 1):
                return False
        return True
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(_MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    return False


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
