"""What the project tells people, checked against what happened, on a synced database (the README's figures).

1. The expected delay per service in charge: what the e-mails state (mappings.expected_delay), against the share
   of the dossiers actually decided within it, among those deposited long enough ago to have had the time; and,
   for contrast, what the former estimate (decisions of the last 90 days only) stated.
2. The validity check's answer in each state: one accepted dossier whose authorisation runs, one not started yet,
   one expired, one accepted with no published record, through the WSGI app with the real birth date.

    WIF_VALIDITY_PEPPER=… wif sync --no-push   # on `wif sandbox --dossiers 2000`
    python bench/truthful_figures.py --database-url sqlite:///var/wif.db [--top 8]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DECIDED = ("accepte", "refuse")


def share_decided_within(rows, days: int, now: datetime) -> tuple[int, int]:
    """(decided within `days` of their deposit, deposited at least `days` ago) among the cohort's rows. A dossier
    classé sans suite within `days` left before it could be decided, as the estimate counts it: it is not in the
    share (one closed later was still waiting at `days`, and counts as not decided within them)."""
    old_enough = [
        r
        for r in rows
        if r.deposited_at <= now - timedelta(days=days)
        and not (
            r.state == "sans_suite"
            and r.decided_at is not None
            and r.decided_at - r.deposited_at < timedelta(days=days)
        )
    ]
    within = [
        r
        for r in old_enough
        if r.state in DECIDED and r.decided_at is not None and r.decided_at - r.deposited_at < timedelta(days=days)
    ]
    return len(within), len(old_enough)


def former_nine_in_ten(rows, now: datetime) -> int | None:
    """The former figure: nearest-rank 90th percentile of the decisions of the last 90 days."""
    delays = sorted(
        (r.decided_at - r.deposited_at).total_seconds() / 86400
        for r in rows
        if r.state in DECIDED and r.decided_at and now - timedelta(days=90) < r.decided_at <= now
    )
    if len(delays) < 5:
        return None
    return math.floor(delays[max(1, math.ceil(0.9 * len(delays))) - 1]) + 1


def delay_table(sessions, now: datetime, top: int) -> list[str]:
    from core.snapshot import delay_cohort
    from mappings.expected_delay import delay_figures, per_service, too_few, window_start
    from mappings.routing import load_routing_table

    table = load_routing_table()
    with sessions() as session:
        facts = delay_cohort(session, window_start(now))
    estimates = per_service(facts, now)
    since = window_start(now)
    lines = [
        "| service in charge | dossiers (waiting) | what the e-mail states | actually decided within it | "
        "former statement | actually decided within it |",
        "|---|---|---|---|---|---|",
    ]
    for group, estimate in sorted(estimates.items(), key=lambda item: -item[1].dossiers)[:top]:
        rows = [f for f in facts if table.in_charge(f.service) == group and f.deposited_at and f.deposited_at >= since]
        if not estimate.enough:
            lines.append(
                f"| {group} | {estimate.dossiers} ({estimate.waiting}) | « {too_few(estimate)} » | – | – | – |"
            )
            continue
        actual = []
        for days in (estimate.half_within_days, estimate.nine_in_ten_within_days):
            if days is not None:
                done, total = share_decided_within(rows, days, now)
                actual.append(f"{done}/{total} ({done / total:.0%}) within {days} d" if total else "–")
        if estimate.nine_in_ten_within_days is None:
            waited = [r for r in rows if r.deposited_at <= now - timedelta(days=estimate.longest_days)]
            still = [
                r
                for r in waited
                if not (
                    r.state in DECIDED
                    and r.decided_at
                    and r.decided_at - r.deposited_at <= timedelta(days=estimate.longest_days)
                )
            ]
            actual.append(
                f"{len(still)}/{len(waited)} deposited {estimate.longest_days} d ago or more undecided "
                f"after {estimate.longest_days} d"
            )
        former = former_nine_in_ten(
            rows
            + [f for f in facts if table.in_charge(f.service) == group and f.deposited_at and f.deposited_at < since],
            now,
        )
        if former is None:
            former_text, former_actual = "too few decisions", "–"
        else:
            done, total = share_decided_within(rows, former, now)
            former_text = f"« 9 sur 10 en moins de {former} jours »"
            former_actual = f"{done}/{total} ({done / total:.0%})" if total else "–"
        lines.append(
            f"| {group} | {estimate.dossiers} ({estimate.waiting}) | « {delay_figures(estimate)} » | "
            f"{'; '.join(actual)} | {former_text} | {former_actual} |"
        )
    return lines


def validity_lines(sessions, pepper: bytes, today: date) -> list[str]:
    from sqlalchemy import select

    from core.models import Dossier, Student, ValidityRecord
    from core.settings import ValiditySettings
    from validity.app import API_PATH, create_app

    with sessions() as session:
        accepted = session.execute(
            select(Dossier.number, Dossier.apt_start, Dossier.apt_end, Student.birth_date)
            .join(Student, Student.dossier_number == Dossier.number)
            .where(Dossier.state == "accepte", Student.birth_date.is_not(None))
            .order_by(Dossier.number)
        ).all()
        published = set(session.scalars(select(ValidityRecord.dossier_number)))
    cases = {
        "running": next((a for a in accepted if a.number in published and a.apt_start <= today <= a.apt_end), None),
        "not started yet": next((a for a in accepted if a.number in published and today < a.apt_start), None),
        "expired": next((a for a in accepted if a.number in published and a.apt_end < today), None),
        # The case: accepted, end date ahead or missing, but dates the rules refuse (or none): not published.
        "accepted, no published record": next(
            (a for a in accepted if a.number not in published and (a.apt_end is None or a.apt_end >= today)), None
        ),
    }
    client = create_app(sessions, ValiditySettings(pepper=pepper), today=lambda: today).test_client()
    lines = [
        f"{sum(1 for a in accepted if a.number in published)} of {len(accepted)} accepted dossiers published; "
        f"answers on {today.isoformat()}:",
        "",
        "| state | dossier's APT | `resultat` | `libelle` | first sentence |",
        "|---|---|---|---|---|",
    ]
    for name, case in cases.items():
        if case is None:
            lines.append(f"| {name} | – | (none on this database) | | |")
            continue
        body = client.post(API_PATH, json={"numero": case.number, "date_naissance": case.birth_date.isoformat()}).json
        period = f"{case.apt_start} → {case.apt_end}" if case.apt_start and case.apt_end else "dates missing or refused"
        lines.append(f"| {name} | {period} | `{body['resultat']}` | {body['libelle']} | {body['explication'][0]} |")
    running = cases["running"]
    if running is not None:
        wrong = running.birth_date + timedelta(days=1)
        body = client.post(API_PATH, json={"numero": running.number, "date_naissance": wrong.isoformat()}).json
        lines.append(
            f"| running, wrong birth date | – | `{body['resultat']}` | {body['libelle']} | {body['explication'][0]} |"
        )
    unpublished = sum(1 for a in accepted if a.number not in published and (a.apt_end is None or a.apt_end >= today))
    lines.append(f"\n{unpublished} accepted dossiers whose end date is ahead (or missing) have no published record.")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite:///var/wif.db"))
    parser.add_argument("--top", type=int, default=8, help="services shown, the most dossiers first")
    args = parser.parse_args()
    from core.db import make_engine, session_factory

    engine = make_engine(args.database_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    print("\n".join(delay_table(sessions, now, args.top)))
    pepper = os.environ.get("WIF_VALIDITY_PEPPER", "").encode()
    print()
    print(
        "\n".join(validity_lines(sessions, pepper, now.date()))
        if pepper
        else "validity: set WIF_VALIDITY_PEPPER (the one the sync used) to look the records up"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
