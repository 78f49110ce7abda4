"""API keys of the REST API (docs/api.md): who may call it, in which role, until when.

A key is shown once when created — ``clk_<key_id>_<secret>`` — and only SHA-256 of its secret
is stored: the secret is 32 random bytes, so a fast hash is enough (no password stretching is
needed against guessing), and it is compared in constant time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import LABEL_LENGTH, Base

__all__ = ["ApiKeyRow"]

BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    #: public half of the key (in the token and in logs), 16 hex characters
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: SHA-256 of the secret half
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    role: Mapped[str] = mapped_column(String(16))
    org: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    name: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: a writer key may write only as these actors (empty for other roles)
    actors: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "role IN ('writer', 'verifier', 'auditor', 'admin', 'witness')",
            name="role_is_known",
        ),
        CheckConstraint("length(secret_sha256) = 32", name="secret_is_sha256"),
        {"sqlite_autoincrement": True},
    )
