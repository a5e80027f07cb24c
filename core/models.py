"""The local SQL model (SQLAlchemy 2, typed): every table of the project.

Dossiers are keyed by the DS dossier **number**: it is what deletedDossiers
and pendingDeletedDossiers give back, and it is stable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend.

    SQLite keeps no time zone, so values come back naive there; DS dates are
    aware. Storing UTC and re-attaching it on read keeps comparisons valid on
    SQLite and PostgreSQL alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the model stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A decision was taken: DS sends no more corrections, only new requests.
DECIDED_STATES = frozenset({"accepte", "refuse", "sans_suite"})


@dataclass(frozen=True)
class DossierRows:
    """What the domain computed for one dossier, as column values of its tables.

    The APT rules (mappings.pipeline) produce it; the DS adapter
    (connector.store) writes it, without knowing what the values mean.
    """

    dossier: dict  # APT columns of `dossiers`: routing, completeness, agents' APT dates
    complete: bool  # complete by the rules now (sets `completed_at` the first time)
    student: dict
    employer: dict
    contract: dict
    documents: list[dict] = field(default_factory=list)  # `document_files` rows
    issues: list[dict] = field(default_factory=list)  # `mapping_issues` rows
    findings: list[dict] = field(default_factory=list)  # `findings` rows


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class SyncState(Base):
    """Bookmark of the incremental sync, one row per démarche."""

    __tablename__ = "sync_state"

    demarche_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Fixed once and replayed on every poll, as DS recommends
    # (docs/ds-sync.md#a-fixed-updatedsince-and-a-stored-cursor).
    updated_since: Mapped[datetime]
    end_cursor: Mapped[str | None] = mapped_column(String(200))
    last_seen_updated_at: Mapped[datetime | None]
    last_rescan_at: Mapped[datetime | None]
    # A page came back shorter than asked for and its cursor was stored past it: the dossiers it left out
    # were modified after this moment, and a re-scan from here reads them (docs/ds-malformed-answers.md).
    rescan_from: Mapped[datetime | None]
    deleted_cursor: Mapped[str | None] = mapped_column(String(200))
    pending_deleted_cursor: Mapped[str | None] = mapped_column(String(200))
    last_success_at: Mapped[datetime | None]
    # Push reconsiders only dossiers synced since this moment (or with mutations
    # still owed): everything synced before had nothing left to push.
    push_checkpoint: Mapped[datetime | None]


class Dossier(Base):
    __tablename__ = "dossiers"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ds_id: Mapped[str] = mapped_column(String(100))
    demarche_number: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    date_depot: Mapped[datetime | None]
    date_passage_en_construction: Mapped[datetime | None]
    date_passage_en_instruction: Mapped[datetime | None]
    date_traitement: Mapped[datetime | None]
    date_derniere_modification: Mapped[datetime] = mapped_column(index=True)
    groupe_instructeur_number: Mapped[int | None] = mapped_column(Integer)
    groupe_instructeur_label: Mapped[str | None] = mapped_column(String(200))
    revision_id: Mapped[str | None] = mapped_column(String(100))
    usager_email: Mapped[str | None] = mapped_column(String(320))
    # Trash (pendingDeletedDossiers): hidden but restorable.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(40))
    # Permanent deletion (deletedDossiers).
    deleted_at: Mapped[datetime | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(40))
    # Agents' APT period, from the private annotations.
    apt_start: Mapped[date | None] = mapped_column(Date)
    apt_end: Mapped[date | None] = mapped_column(Date)
    # Routing and completeness, written by the rules.
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    departement_source: Mapped[str | None] = mapped_column(String(30))
    employer_departement: Mapped[str | None] = mapped_column(String(3))
    service: Mapped[str | None] = mapped_column(String(200))
    target_groupe_label: Mapped[str | None] = mapped_column(String(200))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    out_of_scope: Mapped[bool] = mapped_column(Boolean, default=False)
    completeness_status: Mapped[str | None] = mapped_column(String(20), index=True)
    # First time the checks found the dossier complete (stats: deposit → complete).
    completed_at: Mapped[datetime | None]
    rules_revision: Mapped[str | None] = mapped_column(String(40))
    checked_at: Mapped[datetime | None]
    # The agents' annotation « Dossier de l'étudiant »: the same student's other dossiers, by number, with their
    # hours (mappings.student_file); written after each page, as it depends on the other dossiers.
    student_file: Mapped[str | None] = mapped_column(Text)
    # The last DS version as received, for audit.
    raw: Mapped[dict] = mapped_column(JSON)
    synced_at: Mapped[datetime]

    student: Mapped[Student | None] = relationship(cascade="all, delete-orphan", uselist=False)
    employer: Mapped[Employer | None] = relationship(cascade="all, delete-orphan", uselist=False)
    contract: Mapped[Contract | None] = relationship(cascade="all, delete-orphan", uselist=False)
    # In the order the rules wrote them (ids grow with it): without an ORDER BY, PostgreSQL gives rows back in
    # their order on disk, and the annotations built from them would change from one sync to the next.
    documents: Mapped[list[DocumentFile]] = relationship(cascade="all, delete-orphan", order_by="DocumentFile.id")
    mapping_issues: Mapped[list[MappingIssue]] = relationship(cascade="all, delete-orphan", order_by="MappingIssue.id")
    findings: Mapped[list[Finding]] = relationship(cascade="all, delete-orphan", order_by="Finding.id")
    history: Mapped[list[StateChange]] = relationship(cascade="all, delete-orphan", order_by="StateChange.id")


class Student(Base):
    __tablename__ = "students"

    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), primary_key=True)
    civilite: Mapped[str | None] = mapped_column(String(5))
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    # Indexed: the student's file gathers a page's students by birth date, then matches the titre number.
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    birth_place: Mapped[str | None] = mapped_column(String(200))
    nationality_code: Mapped[str | None] = mapped_column(String(2), index=True)
    nationality_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_label: Mapped[str | None] = mapped_column(Text)
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(200))
    city_insee_code: Mapped[str | None] = mapped_column(String(5))
    address_departement: Mapped[str | None] = mapped_column(String(3))
    request_kind: Mapped[str | None] = mapped_column(String(20))
    previous_apt_reference: Mapped[str | None] = mapped_column(String(100))
    permit_kind: Mapped[str | None] = mapped_column(String(100))
    permit_number: Mapped[str | None] = mapped_column(String(50))
    permit_start: Mapped[date | None] = mapped_column(Date)
    permit_expiry: Mapped[date | None] = mapped_column(Date)
    permit_departement: Mapped[str | None] = mapped_column(String(3))
    permit_prefecture: Mapped[str | None] = mapped_column(String(200))
    resident_one_year: Mapped[bool | None] = mapped_column(Boolean)
    master_or_cge: Mapped[bool | None] = mapped_column(Boolean)
    school: Mapped[str | None] = mapped_column(String(200))
    diploma: Mapped[str | None] = mapped_column(String(200))
    study_year: Mapped[str | None] = mapped_column(String(30))


class Employer(Base):
    __tablename__ = "employers"

    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    company_name: Mapped[str | None] = mapped_column(String(300))
    naf: Mapped[str | None] = mapped_column(String(10))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(200))
    city_insee_code: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str | None] = mapped_column(String(3))
    representative_last_name: Mapped[str | None] = mapped_column(String(200))
    representative_first_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    filed_by_student: Mapped[bool | None] = mapped_column(Boolean)


class Contract(Base):
    __tablename__ = "contracts"

    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), primary_key=True)
    job_title: Mapped[str | None] = mapped_column(String(300))
    contract_type: Mapped[str | None] = mapped_column(String(30), index=True)
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    hours_unit: Mapped[str | None] = mapped_column(String(20))
    hours_value: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    other_jobs_hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    # Hours of the busiest titre year within what one APT covers, against the case's figure.
    annual_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    hours_year_start: Mapped[date | None] = mapped_column(Date)
    hours_cap: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    hours_limit_kind: Mapped[str | None] = mapped_column(String(10))  # threshold | ceiling
    monthly_gross_salary: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    regulated_profession: Mapped[bool | None] = mapped_column(Boolean)
    model_or_live_show: Mapped[bool | None] = mapped_column(Boolean)
    opco_validated: Mapped[bool | None] = mapped_column(Boolean)
    course_related: Mapped[bool | None] = mapped_column(Boolean)
    workplace_postal_code: Mapped[str | None] = mapped_column(String(10))
    workplace_departement: Mapped[str | None] = mapped_column(String(3))


class DocumentFile(Base):
    """One file of a pièce justificative: metadata only, never the content."""

    __tablename__ = "document_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), index=True)
    document_key: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(200))
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(100))


class MappingIssue(Base):
    __tablename__ = "mapping_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)


class Finding(Base):
    """Result of a completeness or consistency rule on a dossier."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(10))  # blocking | warning
    field: Mapped[str | None] = mapped_column(String(60))  # procedure key the finding is about
    message: Mapped[str] = mapped_column(Text)
    rules_revision: Mapped[str] = mapped_column(String(40))


class StateChange(Base):
    """A state transition observed by the sync or read from DS traitements."""

    __tablename__ = "state_history"
    __table_args__ = (UniqueConstraint("dossier_number", "to_state", "occurred_at", name="uq_state_history_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(ForeignKey("dossiers.number", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    event: Mapped[str | None] = mapped_column(String(60))
    occurred_at: Mapped[datetime]
    observed_at: Mapped[datetime]


class JobRun(Base):
    """One run of a job (sync, push, notify…), for `wif status`."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20))  # running | ok | failed | skipped | interrupted
    summary: Mapped[str | None] = mapped_column(Text)
    # Who runs it, and its last sign of life: a killed run is found `interrupted` by the next start.
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    instance: Mapped[str | None] = mapped_column(
        String(32)
    )  # random per process: a pid is reused (pid 1 in a container)
    heartbeat_at: Mapped[datetime | None]


class OutboxStatus(enum.StrEnum):
    """A push_outbox row's life: pending → sending → delivered or failed (or pending again); a pending row
    the dossier no longer needs is superseded."""

    PENDING = "pending"  # planned: due now, or at next_attempt_at
    SENDING = "sending"  # committed before its request left: until recorded, uncertain, read back from DS first
    DELIVERED = "delivered"
    FAILED = "failed"  # for good: refused as a whole, MAX_ATTEMPTS reached, or the dossier gone from DS
    SUPERSEDED = "superseded"  # never sent: the dossier changed, or left en_construction before its message


class PushOutbox(Base):
    """One intended mutation on DS. Written before it is sent, so a crash
    between sending and recording is detected and checked on the next run."""

    __tablename__ = "push_outbox"
    __table_args__ = (Index("ix_push_outbox_dossier_kind", "dossier_number", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(30))  # a row of connector.push.kinds.KINDS
    payload: Mapped[dict] = mapped_column(JSON)
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)  # an OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    client_mutation_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class ChampBinding(Base):
    """Which DS champ a key of the procedure definition reads, per démarche
    (`wif procedure bind --yes`); DS assigns the ids, so each démarche has its own."""

    __tablename__ = "champ_bindings"

    demarche_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    descriptor_id: Mapped[str] = mapped_column(String(200))  # DS's base64 id (Champ-<stable id>, Label-<id>)
    stable_id: Mapped[int] = mapped_column(BigInteger)  # the integer DS's editor shows
    type: Mapped[str] = mapped_column(String(40))  # DS type_champ when bound
    label_seen: Mapped[str] = mapped_column(Text)  # DS's label when bound
    revision_id: Mapped[str | None] = mapped_column(String(200))
    bound_at: Mapped[datetime]


class DossierHint(Base):
    """A webhook said this dossier changed: fetch it now rather than at the next
    poll. Only the number is kept; the poll stays the source of truth."""

    __tablename__ = "dossier_hints"

    demarche_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(10))  # legacy | signed
    received_at: Mapped[datetime] = mapped_column(index=True)
    handled_at: Mapped[datetime | None]  # pending while null or older than received_at


# A quarantined dossier: DS cannot give it (FAILING), gave it only without the
# champs' objects (PARTIAL: stored « À vérifier »), or the database refused
# its rows (UNSTORABLE). Retried alone at every sync; gone once stored whole.
Q_FAILING, Q_PARTIAL, Q_UNSTORABLE = "failing", "partial", "unstorable"
# Key the connector adds to a raw dossier read without the champs' objects:
# [{"path", "message", "label", "champDescriptorId"}] of the champs DS could
# not give. The domain's evaluation reads it (the dossier is « À vérifier »).
UNREADABLE_KEY = "wifUnreadable"


class QuarantinedDossier(Base):
    """A dossier set aside so that it stops no one: the sync goes on past it,
    retries it alone (`getDossier`, then `getDossierReduced`), and `wif status`
    and the agents' digest list it. Holds DS's error, never the dossier's data."""

    __tablename__ = "quarantined_dossiers"

    demarche_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))  # failing | partial | unstorable
    error: Mapped[str] = mapped_column(Text)  # DS's message, or what the database refused
    error_path: Mapped[str | None] = mapped_column(String(500))  # inside the dossier: champs.40.files.0.byteSizeBigInt
    champ: Mapped[str | None] = mapped_column(String(300))  # the label of the champ the error is about
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime]


class WebhookCursor(Base):
    """Per signed webhook, the highest `sequence` of the events forgotten (their
    `webhook_events` rows pruned, DS no longer keeps them): an event at or below
    it is a replay (docs/ds-webhook-sequence.md)."""

    __tablename__ = "webhook_cursors"

    webhook_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """A signed webhook's event already received: delivered again (at least
    once), it is a replay. Kept a little longer than DS keeps its events."""

    __tablename__ = "webhook_events"

    webhook_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(index=True)


class WebhookCounter(Base):
    """What the webhook endpoints received, by outcome (accepted, forged, replayed…)."""

    __tablename__ = "webhook_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime]


class JobLock(Base):
    """A job's lock row on SQLite (PostgreSQL uses advisory locks, see jobs.locks)."""

    __tablename__ = "job_locks"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# pending → sending → sent | failed | cancelled; `sending` left behind by a
# crash is taken again after STALE_SENDING (at-least-once, see mailer docs).
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
BACKLOG_STATUSES = (PENDING, SENDING)


class Notification(Base):
    """Notification outbox: one row per (scope, event, recipient), sent exactly once.

    `scope` is "dossier:<number>" for messages about a dossier and
    "service:<name>" for digests. The recipient is kept as a hash: the address
    is read again from the dossier (or the service table) when sending, so the
    outbox holds no personal data.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("scope", "event", "recipient_hash", name="uq_notification_once"),
        Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(240))
    dossier_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    event: Mapped[str] = mapped_column(String(60))
    template: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))  # applicant | employer | agents
    recipient_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class ValidityState(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ValidityBudget(Base):
    """One fixed window of the validity check's lookup budget, shared by every worker (validity.budget)."""

    __tablename__ = "validity_budget"

    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # epoch seconds
    lookups: Mapped[int] = mapped_column(Integer)
    misses: Mapped[int] = mapped_column(
        Integer
    )  # « aucune autorisation trouvée » answers: unknown number or wrong birth date
    alerted: Mapped[bool] = mapped_column(Boolean)  # the team was told of this window's misses


class ValidityRecord(Base):
    """The validity record: everything the public check may ever reveal, and no more.

    No foreign key to `dossiers`: when a dossier disappears the record must stay
    (as withdrawn) so the answer changes to « aucune autorisation trouvée » instead of vanishing
    with the row, until the purge removes it.
    """

    __tablename__ = "validity_records"
    __table_args__ = (Index("ix_validity_records_state_end", "state", "apt_end"),)

    dossier_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # HMAC-SHA256 (hex) of the number and birth date under the secret pepper:
    # a plain hash of a date is reversed by trying the ~40,000 plausible days.
    birth_date_hash: Mapped[str] = mapped_column(String(64))
    masked_name: Mapped[str] = mapped_column(String(100))
    siret: Mapped[str | None] = mapped_column(String(14))
    # The employer's name as DS gave it from the SIRET (raison sociale): the decision the student hands over names
    # it already, and the employer recognises it (docs/apt-validity-check.md#what-an-answer-shows).
    employer_name: Mapped[str | None] = mapped_column(String(300))
    apt_start: Mapped[date] = mapped_column(Date)
    apt_end: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime]
