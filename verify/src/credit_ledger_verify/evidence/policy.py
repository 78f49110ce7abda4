"""The endorsement policy a verifier holds transactions to (step 4).

The network's chaincode is endorsed under MAJORITY of the channel's application orgs (the
default here too). The policy is an explicit object handed to the :class:`Verifier`, so a
consortium with another rule says so instead of patching the verifier::

    Verifier(trust)                                          # MAJORITY
    Verifier(trust, policy=EndorsementPolicy.all_orgs())     # every application org
    Verifier(trust, policy=EndorsementPolicy.at_least(2))    # any two orgs
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from credit_ledger_verify.evidence.model import EvidenceError

__all__ = ["EndorsementPolicy", "EndorsementRule", "PolicyError"]


class PolicyError(EvidenceError):
    """An endorsement policy that cannot be satisfied or makes no sense."""

    code: ClassVar[str] = "evidence_policy_invalid"


class EndorsementRule(StrEnum):
    MAJORITY = "MAJORITY"
    ALL = "ALL"
    AT_LEAST = "AT_LEAST"


@dataclass(frozen=True, slots=True)
class EndorsementPolicy:
    """How many distinct application orgs must endorse a transaction."""

    rule: EndorsementRule = EndorsementRule.MAJORITY
    #: the number of orgs for :attr:`EndorsementRule.AT_LEAST`
    count: int = 0

    def __post_init__(self) -> None:
        if self.rule is EndorsementRule.AT_LEAST and self.count < 1:
            raise PolicyError(f"AT_LEAST needs a count of 1 or more, got {self.count}")

    @classmethod
    def majority(cls) -> EndorsementPolicy:
        return cls(EndorsementRule.MAJORITY)

    @classmethod
    def all_orgs(cls) -> EndorsementPolicy:
        return cls(EndorsementRule.ALL)

    @classmethod
    def at_least(cls, count: int) -> EndorsementPolicy:
        return cls(EndorsementRule.AT_LEAST, count)

    def required(self, application_orgs: Collection[str]) -> int:
        """Distinct endorsing orgs needed out of the channel's ``application_orgs``."""
        total = len(application_orgs)
        if self.rule is EndorsementRule.MAJORITY:
            return total // 2 + 1
        if self.rule is EndorsementRule.ALL:
            return max(total, 1)
        return self.count

    def check(self, endorsing_orgs: Sequence[str], application_orgs: Collection[str]) -> str | None:
        """Why the distinct ``endorsing_orgs`` (all already known to be application orgs)
        do not satisfy the policy, or ``None``."""
        needed = self.required(application_orgs)
        if len(endorsing_orgs) >= needed:
            return None
        by = ", ".join(endorsing_orgs) or "nobody"
        return (
            f"endorsed by {len(endorsing_orgs)} of {len(application_orgs)} application orgs "
            f"({by}); {self} needs {needed}"
        )

    def __str__(self) -> str:
        if self.rule is EndorsementRule.AT_LEAST:
            return f"AT_LEAST {self.count}"
        return self.rule.value
