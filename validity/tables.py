"""The validity record: everything the public check may ever reveal, and no more.

No foreign key to `dossiers`: when a dossier disappears the record must stay
(as withdrawn) so the answer changes to "non valide" instead of vanishing
with the row, until the purge removes it.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from connector.models import Base


class ValidityState(str, enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ValidityRecord(Base):
    __tablename__ = "validity_records"
    __table_args__ = (Index("ix_validity_records_state_end", "state", "apt_end"),)

    dossier_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # HMAC-SHA256 (hex) of the number and birth date under the secret pepper:
    # a plain hash of a date is reversed by trying the ~40,000 plausible days.
    birth_date_hash: Mapped[str] = mapped_column(String(64))
    masked_name: Mapped[str] = mapped_column(String(100))
    siret: Mapped[str | None] = mapped_column(String(14))
    apt_start: Mapped[date] = mapped_column(Date)
    apt_end: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime]
