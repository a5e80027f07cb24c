"""One lock per job in the database, so two schedulers never run the same job.

PostgreSQL: a session advisory lock, held by a dedicated connection for the
job's duration and released by the server if the process dies. SQLite: a
row in `job_locks` with an expiry, so a crashed holder blocks the job for at
most the TTL.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import JobLock


def advisory_key(job: str, schema: str = "public") -> int:
    """A stable signed 64-bit key per job name and schema (pg advisory locks take a bigint).

    Advisory locks are shared by the whole database: two deployments in two
    schemas of one database (or two test runs) must not hold each other's jobs.
    """
    return int.from_bytes(hashlib.sha256(f"wif-job:{schema}:{job}".encode()).digest()[:8], "big", signed=True)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def _advisory_lock(engine: Engine, job: str) -> Iterator[bool]:
    with engine.connect() as connection:
        key = advisory_key(job, connection.execute(text("SELECT current_schema()")).scalar() or "public")
        acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _row_lock(engine: Engine, job: str, ttl: timedelta, holder: str, clock: Callable[[], datetime]) -> Iterator[bool]:
    now = clock()
    acquired = False
    with Session(engine) as session:
        try:
            with session.begin():
                session.execute(delete(JobLock).where(JobLock.job == job, JobLock.expires_at <= now))
                session.add(JobLock(job=job, holder=holder, acquired_at=now, expires_at=now + ttl))
            acquired = True
        except IntegrityError:
            acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            with Session(engine) as session, session.begin():
                session.execute(delete(JobLock).where(JobLock.job == job, JobLock.holder == holder))


@contextmanager
def job_lock(
    engine: Engine,
    job: str,
    *,
    ttl: timedelta = timedelta(hours=2),
    holder: str | None = None,
    clock: Callable[[], datetime] = _now,
) -> Iterator[bool]:
    """`with job_lock(engine, "sync") as acquired:` — run the job only if acquired."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, job) as acquired:
            yield acquired
    else:
        with _row_lock(engine, job, ttl, holder or default_holder(), clock) as acquired:
            yield acquired
