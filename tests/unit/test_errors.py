"""The one error tree: every LedgerError subclass the service and the offline verifier
package define has a unique stable code, derives from LedgerError and is drawn (with its
code) in ledger_service/errors.py's docstring (the whole tree); those of the verifier package
are also drawn in credit_ledger_verify/errors.py's docstring (its subtree, what a bank
sees), and nothing is drawn there that the package does not define."""

from __future__ import annotations

import importlib
import pkgutil
import re

import credit_ledger_verify
import pytest
from credit_ledger_verify import errors as verify_errors

import ledger_service
from ledger_service import errors
from ledger_service.errors import LedgerError, ValidationError

PACKAGES = (ledger_service, credit_ledger_verify)


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
    for package in PACKAGES:
        prefix = package.__name__ + "."
        for module in pkgutil.walk_packages(package.__path__, prefix):
            if ".migrations." in module.name or module.name.endswith("__main__"):
                # Alembic scripts need Alembic's context; __main__ runs the CLI
                continue
            importlib.import_module(module.name)
    ours = tuple(p.__name__ for p in PACKAGES)
    classes = [c for c in _all_subclasses(LedgerError) if c.__module__.split(".")[0] in ours]
    return [c for c in classes if not c.__name__.startswith("_")]  # type: ignore[misc]


CLASSES = _public_error_classes()
VERIFY_CLASSES = [c for c in CLASSES if c.__module__.startswith("credit_ledger_verify.")]
CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def _drawn_codes(doc: str | None) -> dict[str, str]:
    """Class name → code from the tree in a docstring (``├── Name(...)  code``)."""
    drawn: dict[str, str] = {}
    for line in (doc or "").splitlines():
        match = re.search(r"[├└]── (\w+)(.*)", line)
        if match is None:
            continue
        codes = [token for token in match.group(2).split() if CODE.fullmatch(token)]
        if codes:
            drawn[match.group(1)] = codes[0]
    return drawn


DRAWN = _drawn_codes(errors.__doc__)
VERIFY_DRAWN = _drawn_codes(verify_errors.__doc__)


def test_the_walk_finds_errors_outside_errors_py() -> None:
    names = {c.__name__ for c in CLASSES}
    # one from each kind of module, so a broken walk cannot pass the tests below vacuously
    assert {"RequestTooLarge", "WriterKeyError", "ChainIntegrityError", "NetworkError"} <= names
    # and in both packages: the verifier's own modules hold part of the tree
    assert {"BundleShapeError", "IdentityError", "OnChainFormatError", "EnvelopeError"} <= {
        c.__name__ for c in VERIFY_CLASSES
    }
    assert LedgerError is verify_errors.LedgerError


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


@pytest.mark.parametrize("cls", VERIFY_CLASSES, ids=lambda c: c.__qualname__)
def test_the_verifier_package_draws_its_own_subtree(cls: type[LedgerError]) -> None:
    assert VERIFY_DRAWN.get(cls.__name__) == cls.code, f"{cls.__name__} not drawn in the package"


def test_the_verifier_package_draws_only_its_own_classes() -> None:
    own = {c.__name__ for c in VERIFY_CLASSES}
    assert set(VERIFY_DRAWN) == own, set(VERIFY_DRAWN) ^ own


def test_nothing_is_drawn_that_does_not_exist() -> None:
    assert set(DRAWN) == {c.__name__ for c in CLASSES}, set(DRAWN) ^ {c.__name__ for c in CLASSES}


def test_record_and_field_are_carried() -> None:
    error = ValidationError("r-1", "payload.amount", "must be positive")
    assert (error.record_id, error.field, error.code) == ("r-1", "payload.amount", "invalid_input")
    assert (LedgerError("x").record_id, LedgerError("x").field) == (None, None)
