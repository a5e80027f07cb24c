"""The APT period rule, the one every reader applies (checks, notifications,
the public validity record).

An APT lasts at most `apt.max_months` months (rules.yaml) and ends no later than the titre de séjour:
agents set its end to the earlier of the contract's end and the titre's expiry
(docs/apt-consistency.md#the-apt-period). Pure functions of plain dates.
"""

from __future__ import annotations

from datetime import date

from mappings.normalize import last_day_of_months
from mappings.rules import Rules, default_rules

MISSING, INVERTED, TOO_LONG, AFTER_PERMIT = "missing", "inverted", "too_long", "after_permit"


def max_months(rules: Rules | None = None) -> int:
    return (rules or default_rules()).section("apt")["max_months"]


def latest_end(start: date, months: int) -> date:
    """Last day an APT starting on `start` may cover (1 April 2025, 12 months → 31 March 2026)."""
    return last_day_of_months(start, months)


def period_problems(start: date | None, end: date | None, permit_expiry: date | None, months: int) -> tuple[str, ...]:
    """What is wrong with an agent-entered APT period; empty when it may stand."""
    if start is None or end is None:
        return (MISSING,)
    problems = []
    if end < start:
        problems.append(INVERTED)
    elif end > latest_end(start, months):
        problems.append(TOO_LONG)
    if permit_expiry is not None and end > permit_expiry:
        problems.append(AFTER_PERMIT)
    return tuple(problems)
