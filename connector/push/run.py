"""One démarche's push while it runs: what planning, delivery and settling share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from connector.batch import BatchLimits
from connector.client import DSClient
from connector.push.live import LiveDemarche
from connector.push.summary import PushSummary


class PushProgress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, mutations: int) -> None: ...
    def finish(self) -> None: ...


@dataclass
class PushRun:
    demarche_number: int
    client: DSClient
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    instructeur_id: str
    live: LiveDemarche
    summary: PushSummary
    limits: BatchLimits  # halved when DS is slow, for the rest of the run
    only: frozenset[int] | None = None  # a webhook's dossiers; None: every dossier
    dry_run: bool = False
    progress: PushProgress | None = None
