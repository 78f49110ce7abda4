"""The one error tree: every LedgerError subclass the package defines has a unique stable
code, is drawn (with its code) in errors.py's docstring, and derives from LedgerError."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import ledger_service
from ledger_service import errors
from ledger_service.errors import LedgerError, ValidationError


def _all_subclasses(cls: type[BaseException]) -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    stack = list(cls.__subclasses__())
    while stack:
        sub = stack.pop()
        if sub not in found:
            found.append(sub)
            stack.extend(sub.__subclasses__())
    return found


def _public_error_classes() -> list[type[LedgerError]]:
    for module in pkgutil.walk_packages(ledger_service.__path__, "ledger_service."):
        if ".migrations." in module.name or module.name.endswith("__main__"):
            # Alembic scripts need Alembic's context; __main__ runs the CLI
            continue
        importlib.import_module(module.name)
    classes = [c for c in _all_subclasses(LedgerError) if c.__module__.startswith("ledger_service")]
    return [c for c in classes if not c.__name__.startswith("_")]  # type: ignore[misc]


CLASSES = _public_error_classes()
CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def _drawn_codes() -> dict[str, str]:
    """Class name → code from the tree in errors.py's docstring (``├── Name(...)  code``)."""
    drawn: dict[str, str] = {}
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"[├└]── (\w+)(.*)", line)
        if match is None:
            continue
        codes = [token for token in match.group(2).split() if CODE.fullmatch(token)]
        if codes:
            drawn[match.group(1)] = codes[0]
    return drawn


DRAWN = _drawn_codes()


def test_the_walk_finds_errors_outside_errors_py() -> None:
    names = {c.__name__ for c in CLASSES}
    # one from each kind of module, so a broken walk cannot pass the tests below vacuously
    assert {"RequestTooLarge", "WriterKeyError", "ChainIntegrityError", "NetworkError"} <= names


def test_codes_are_unique_snake_case_and_own_to_each_class() -> None:
    codes: dict[str, str] = {LedgerError.code: "LedgerError"}
    for cls in CLASSES:
        assert "code" in vars(cls), f"{cls.__qualname__} does not set its own code"
        assert CODE.fullmatch(cls.code), cls.code
        assert cls.code not in codes, f"{cls.__qualname__} reuses {codes[cls.code]}'s code"
        codes[cls.code] = cls.__qualname__


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_every_error_is_drawn_in_the_docstring_with_its_code(cls: type[LedgerError]) -> None:
    assert issubclass(cls, LedgerError)
    assert DRAWN.get(cls.__name__) == cls.code, f"{cls.__name__} ({cls.code}) not drawn"


def test_record_and_field_are_carried() -> None:
    error = ValidationError("r-1", "payload.amount", "must be positive")
    assert (error.record_id, error.field, error.code) == ("r-1", "payload.amount", "invalid_input")
    assert (LedgerError("x").record_id, LedgerError("x").field) == (None, None)
