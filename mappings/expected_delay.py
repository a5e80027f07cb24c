"""« Quand vais-je recevoir mon autorisation ? »: the expected decision delay, from the local history.

Per service (or département), over the decisions of the last 90 days
(rules.yaml `expected_delay`): the
delay within which half and nine in ten of the requests received their
decision, counted from the deposit (as the stats page counts it). Fewer
decisions than the small-count threshold (core.disclosure, the stats page's)
give no figure: the text then says so rather than guess. Pure functions over
plain decision records; the callers gather them from the database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Protocol

from core.disclosure import SMALL_COUNT_THRESHOLD
from mappings.rules import default_rules

_SECTION = default_rules().section("expected_delay")
WINDOW_DAYS: int = _SECTION["window_days"]
COUNTED_STATES = frozenset(_SECTION["decision_states"])
DAY_SECONDS = 86400


class DecisionRecord(Protocol):
    service: str | None
    departement: str | None
    state: str
    deposited_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ExpectedDelay:
    decisions: int  # counted in the window
    half_within_days: int | None  # half of them were decided in fewer days than this; None when too few
    nine_in_ten_within_days: int | None
    window_days: int = WINDOW_DAYS
    min_decisions: int = SMALL_COUNT_THRESHOLD

    @property
    def known(self) -> bool:
        return self.nine_in_ten_within_days is not None


def within_days(delays_in_days: list[float], share: float) -> int:
    """The least whole number of days N such that `share` of the delays are under N days (nearest rank)."""
    ordered = sorted(delays_in_days)
    rank = max(1, math.ceil(share * len(ordered)))
    return math.floor(ordered[rank - 1]) + 1


def expected_delays(decisions: Iterable[DecisionRecord], now: datetime, by: Callable[[DecisionRecord], str | None],
                    window_days: int = WINDOW_DAYS, min_decisions: int = SMALL_COUNT_THRESHOLD) -> dict[str, ExpectedDelay]:
    """Expected delay per group (`by`: the service, the département…) of the decisions of the last `window_days`."""
    since = window_start(now, window_days)
    delays: dict[str, list[float]] = {}
    for decision in decisions:
        group = by(decision)
        if group is None or decision.state not in COUNTED_STATES or decision.deposited_at is None:
            continue
        if decision.decided_at is None or not since < decision.decided_at <= now or decision.decided_at < decision.deposited_at:
            continue
        delays.setdefault(group, []).append((decision.decided_at - decision.deposited_at).total_seconds() / DAY_SECONDS)
    return {group: _delay(days, window_days, min_decisions) for group, days in delays.items()}


def window_start(now: datetime, window_days: int = WINDOW_DAYS) -> datetime:
    """The earliest decision the figures count: what the callers gather from the database."""
    return now - timedelta(days=window_days)


def per_service(decisions: Iterable[DecisionRecord], now: datetime) -> dict[str, ExpectedDelay]:
    """The expected delay of each service: what the e-mails and the agents' annotation say."""
    return expected_delays(decisions, now, lambda decision: decision.service)


def _delay(days: list[float], window_days: int, min_decisions: int) -> ExpectedDelay:
    if len(days) < min_decisions:
        return ExpectedDelay(len(days), None, None, window_days, min_decisions)
    return ExpectedDelay(len(days), within_days(days, 0.5), within_days(days, 0.9), window_days, min_decisions)


def delay_of(delays: dict[str, ExpectedDelay], group: str | None) -> ExpectedDelay:
    """The group's delay; a group with no decision in the window has none (0 decisions)."""
    return delays.get(group or "") or ExpectedDelay(0, None, None)


def _days(count: int) -> str:
    return f"{count} jour" if count == 1 else f"{count} jours"


def applicant_sentence(delay: ExpectedDelay) -> str:
    """What the applicant and the employer read in the « dossier complet » e-mail."""
    if not delay.known:
        return (f"Dans votre département, trop peu de demandes ont reçu une décision ces {delay.window_days} derniers "
                "jours pour estimer un délai.")
    return (f"Dans votre département, 9 demandes sur 10 reçoivent une décision en moins de "
            f"{_days(delay.nine_in_ten_within_days)} (la moitié en moins de {_days(delay.half_within_days)}), d'après "
            f"les décisions des {delay.window_days} derniers jours.")


def agent_text(delay: ExpectedDelay) -> str:
    """The agents' annotation: the same figure, with what it rests on."""
    if not delay.known:
        return (f"Trop peu de décisions du service ces {delay.window_days} derniers jours (moins de {delay.min_decisions}) "
                "pour estimer un délai")
    return (f"9 demandes sur 10 décidées en moins de {_days(delay.nine_in_ten_within_days)}, la moitié en moins de "
            f"{_days(delay.half_within_days)} ({delay.decisions} décisions du service ces {delay.window_days} derniers jours)")
