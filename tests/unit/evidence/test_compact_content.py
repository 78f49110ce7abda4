"""The compact builder hands out a record's content as a JSON object only when the verifier
can re-derive the committed bytes from it (RFC 8785), and refuses otherwise."""

from __future__ import annotations

import pytest
from credit_ledger_verify.canonical import canonicalize

from ledger_service.evidence import EvidenceError
from ledger_service.evidence.compact import _content_object


def test_canonical_content_becomes_the_object_that_canonicalises_back() -> None:
    content = canonicalize({"record_id": "r-1", "payload": {"note": 'é\n"x"', "n": 3}})
    obj = _content_object("r-1", content)
    assert canonicalize(obj) == content


@pytest.mark.parametrize(
    "content",
    [
        b'{"b":1,"a":2}',  # keys not sorted
        b'{"a": 1}',  # whitespace
        b'{"a":1.5}',  # a float: no exact RFC 8785 form here
        b'["a"]',  # not an object
    ],
)
def test_content_a_verifier_could_not_re_derive_is_refused(content: bytes) -> None:
    with pytest.raises(EvidenceError, match="not RFC 8785 canonical"):
        _content_object("r-1", content)
