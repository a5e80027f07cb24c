"""Bind a démarche (read DS, match, store) and load its binding for a run.

The rules are `mappings.binding`; this module only wires DS, the database
and them together, for `wif procedure bind`, the safety stop of `wif sync` /
`wif push`, the embedded demo and the tests (which bind the way a
deployment does).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from connector import revision as ds_revision
from connector.client import DSClient
from core import models
from core.clock import utcnow
from core.errors import ExitCode, WifError
from mappings import binding as rules
from mappings.binding import Binding, BindResult, BoundChamp
from mappings.procedure import Procedure, default_procedure

BIND_COMMAND = "wif procedure bind"


class NotBound(WifError):
    """The démarche has no usable binding: nothing may be mapped or pushed."""

    exit_code = ExitCode.NOT_BOUND

    def __init__(self, demarche_number: int, problems: list[str], consequence: str = "nothing was mapped or pushed"):
        self.demarche_number, self.problems = demarche_number, problems
        if problems == ["no binding"]:
            why = "its champs are not bound to the definition yet"
        else:
            why = (
                "its binding does not fit the published revision ("
                + "; ".join(problems[:3])
                + (f"; {len(problems) - 3} more" if len(problems) > 3 else "")
                + ")"
            )
        super().__init__(
            f"démarche {demarche_number}: {why}; {consequence}. Run "
            f"`{BIND_COMMAND} --demarche {demarche_number}` (it shows the binding and its problems),"
            " then add --yes to store it."
        )


def load_binding(session: Session, demarche_number: int) -> Binding | None:
    rows = session.scalars(
        select(models.ChampBinding).where(models.ChampBinding.demarche_number == demarche_number)
    ).all()
    if not rows:
        return None
    return Binding(
        demarche_number,
        rows[0].revision_id,
        {row.key: BoundChamp(row.key, row.descriptor_id, row.stable_id, row.type, row.label_seen) for row in rows},
    )


def store_binding(session: Session, result: BindResult) -> None:
    """Replace the démarche's binding (one per démarche) with `result`'s."""
    now = utcnow()
    session.execute(delete(models.ChampBinding).where(models.ChampBinding.demarche_number == result.demarche_number))
    session.add_all(
        models.ChampBinding(
            demarche_number=result.demarche_number,
            key=b.key,
            descriptor_id=b.descriptor_id,
            stable_id=b.stable_id,
            type=b.type,
            label_seen=b.label,
            revision_id=result.revision_id,
            bound_at=now,
        )
        for b in result.bound.values()
    )


def read_descriptors(client: DSClient, demarche_number: int) -> tuple[dict, str | None, list[dict]]:
    """(démarche as read, published revision id, its descriptors with the labels)."""
    demarche = ds_revision.read_demarche(client, demarche_number)
    published = ds_revision.published_revision(demarche)
    return demarche, published.get("id"), ds_revision.descriptors(published, demarche.get("labels"))


def bind_demarche(
    client: DSClient,
    sessions: sessionmaker[Session],
    demarche_number: int,
    *,
    procedure: Procedure | None = None,
    overrides: dict[int, dict[str, int]] | None = None,
    store: bool = False,
) -> BindResult:
    """Match the definition against the published revision; with `store`, keep
    the result unless something blocks it (`BindResult.blocking`)."""
    procedure = procedure or default_procedure()
    if overrides is None:
        overrides = rules.load_overrides(procedure=procedure)
    _, revision_id, found = read_descriptors(client, demarche_number)
    with sessions() as session:
        previous = load_binding(session, demarche_number)
    before = None
    if previous is not None and previous.revision_id and previous.revision_id != revision_id:
        before = ds_revision.revision_descriptors(client, demarche_number, previous.revision_id)
    elif previous is not None:
        before = found
    result = rules.bind(
        procedure, demarche_number, revision_id, found, overrides.get(demarche_number, {}), previous, before
    )
    if store and not result.blocking:
        with sessions() as session, session.begin():
            store_binding(session, result)
    return result


@dataclass(frozen=True)
class RunBinding:
    """What a run of sync or push gets for a démarche: its binding, checked against DS."""

    binding: Binding
    demarche: dict  # getDemarcheDescriptor's answer, for push (labels, groupes)


def require_binding(
    client: DSClient, sessions: sessionmaker[Session], demarche_number: int, procedure: Procedure | None = None
) -> RunBinding:
    """The stored binding, if it fits the published revision; else NotBound (nothing may be written)."""
    procedure = procedure or default_procedure()
    demarche, _, found = read_descriptors(client, demarche_number)
    with sessions() as session:
        binding = load_binding(session, demarche_number)
    problems = rules.check(procedure, binding, found)
    if binding is None or problems:  # check() says "no binding" when there is none
        raise NotBound(demarche_number, problems)
    return RunBinding(binding, demarche)


def bind_embedded_sandbox(settings, sessions: sessionmaker[Session]) -> list[str]:
    """The embedded demo binds its own sandbox without asking; returns the line per démarche that says so."""
    from jobs.runtime import make_client

    lines = []
    with make_client(settings) as client:
        for number in settings.ds.demarche_numbers:
            result = bind_demarche(client, sessions, number, store=True)
            state = "bound" if not result.blocking else f"NOT bound ({len(result.blocking)} problem(s))"
            lines.append(
                f"embedded sandbox: démarche {number} {state}, {len(result.bound)} keys to its champs "
                f"(what `{BIND_COMMAND} --yes` does on a real démarche)"
            )
    return lines
