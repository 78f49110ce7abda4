"""Declared purposes (征信业管理条例: every query of an enterprise's credit data states why).

A purpose is one of a fixed list — what a supervisor can count and audit — plus optional free
text (required for ``other``), e.g. ``purpose=loan_review&purpose_detail=application 2026-117``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Query

from ledger_service.errors import ValidationError

__all__ = ["Purpose", "PurposeDetail", "PurposeParam", "declared_purpose"]


class Purpose(StrEnum):
    LOAN_REVIEW = "loan_review"  # 贷前审查: deciding a loan application
    POST_LOAN_MONITORING = "post_loan_monitoring"  # 贷后管理
    OBJECTION_HANDLING = "objection_handling"  # 异议处理: an enterprise's objection
    SUPERVISION = "supervision"  # 监管: a regulator's inspection or audit
    OTHER = "other"  # must be explained in purpose_detail


PurposeParam = Annotated[
    Purpose,
    Query(description="Why the caller reads this enterprise data; logged with the answer."),
]
PurposeDetail = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Free text: a case or file reference; required when purpose is 'other'.",
    ),
]


def declared_purpose(purpose: Purpose, detail: str | None) -> str:
    """The purpose as the access log stores it: ``loan_review`` or ``loan_review: <detail>``."""
    text = (detail or "").strip()
    if purpose is Purpose.OTHER and not text:
        raise ValidationError(None, "purpose_detail", "is required when purpose is 'other'")
    return f"{purpose.value}: {text}" if text else purpose.value
