"""One test per row of issue #12's table: each APT rule as the sources state it.

The per-rule positive and negative tests, each citing its source sentence,
live beside their module (test_checks.py, test_routing.py…); these ones
check each row end to end, from a mapped dossier (or a snapshot) to what
the connector decides.
"""
from __future__ import annotations

from datetime import date

import pytest

from mappings import apt_period
from mappings.checks import check_decision
from mappings.rules import default_rules
from notifications.apt_dates import apt_date_problems
from tests.snapshots import make_snapshot
from validity.derive import derive_record, published_period

PEPPER = b"row-test-pepper-" + b"z" * 40


def test_one_apt_period_rule(monkeypatch):
    """RULES.md: an APT "lasts at most 12 months". One rule, read from rules.yaml by every reader."""
    start, seven_months = date(2026, 1, 1), date(2026, 7, 31)
    snapshot = make_snapshot(state="accepte", birth_date=date(2001, 1, 1), apt_start=start, apt_end=seven_months)
    from tests.test_checks import complete
    mapped = complete()
    mapped.agent.apt_start, mapped.agent.apt_end, mapped.student.permit_expiry = start, seven_months, None

    assert check_decision(mapped) == [] and apt_date_problems(start, seven_months, None) == ()
    assert published_period(snapshot) is not None
    # The figure comes from rules.yaml: change it there and the checks, the
    # notifications and the validity record all follow, with no copy to update.
    monkeypatch.setitem(default_rules().raw["apt"], "max_months", 6)
    assert [f.code for f in check_decision(mapped)] == ["apt_too_long"]
    assert apt_date_problems(start, seven_months, None) == (apt_period.TOO_LONG,)
    assert published_period(snapshot) is None and derive_record(snapshot, PEPPER, date(2026, 3, 1)) is None


@pytest.mark.parametrize("apt_start, apt_end", [(None, None), (date(2026, 2, 1), None)])
def test_public_validity(apt_start, apt_end):
    """The validity record publishes the agent's decision and the agent's APT dates, never the contract's."""
    accepted = dict(state="accepte", birth_date=date(2001, 1, 1), contract_start=date(2026, 2, 1),
                    contract_end=date(2026, 7, 31), permit_expiry=date(2026, 12, 31))
    assert derive_record(make_snapshot(**accepted, apt_start=apt_start, apt_end=apt_end), PEPPER, date(2026, 3, 1)) is None
    decided = derive_record(make_snapshot(**accepted, apt_start=date(2026, 2, 3), apt_end=date(2026, 6, 30)),
                            PEPPER, date(2026, 3, 1))
    assert (decided.apt_start, decided.apt_end) == (date(2026, 2, 3), date(2026, 6, 30))
