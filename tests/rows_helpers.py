"""A desk for one-test-per-rule-row tests at the level of what DS received: a dossier of the sandbox is edited
as an applicant would edit it, the connector syncs and pushes, and the test reads the label and the annotations
the sandbox now shows (tests/test_apt_rules_rows.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from connector.client import DSClient
from connector.ratelimit import RequestBudget
from core.db import make_engine, session_factory
from core.models import Base
from jobs.runtime import sandbox_store
from sandbox.champs import StoredFile
from sandbox.server import start_server
from tests.push_helpers import make_pusher
from tests.sync_helpers import make_syncer

GENERAL = ("pj_titre_sejour", "pj_passeport", "pj_inscription", "pj_contrat")


def pdf(name: str, size: int = 150_000) -> tuple[StoredFile, ...]:
    return (StoredFile(f"{name}.pdf", "application/pdf", size),)


@dataclass(frozen=True)
class Shown:
    """What an agent sees on DS for one dossier after the connector's push."""

    labels: frozenset[str]
    annotations: dict = field(hash=False)
    messages: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        [label] = self.labels
        return label


def base_values(record) -> dict:
    """A complete request a few days after the dossier's deposit: a Moroccan student on a carte de séjour
    étudiant, full time for nine months on a CDD (1,375 h: above 964 h, an APT is needed), the job in the
    course, filed by the employer, the four general documents; no other job, no case of a conditional pièce."""
    deposit = record.depose_at.date()
    start = deposit + timedelta(days=14)
    values = {key: () for key in record.values if key.startswith("pj_")}
    values.update({key: pdf(key) for key in GENERAL})
    values.update(
        nationalite="MA",
        titre_type="Carte de séjour étudiant",
        titre_numero="9912345678",
        titre_date_debut=(deposit - timedelta(days=30)).isoformat(),
        titre_date_expiration=(deposit + timedelta(days=500)).isoformat(),
        demande_type="Première demande",
        apt_precedente_reference=None,
        depose_par="L'employeur",
        residence_un_an=True,
        formation_master_cge=False,
        emploi_intitule="Vendeur",
        contrat_type="CDD",
        contrat_date_debut=start.isoformat(),
        contrat_date_fin=(start + timedelta(days=274)).isoformat(),
        heures_unite="Par semaine",
        heures_nombre=35.0,
        salaire_brut_mensuel=1800.0,
        profession_reglementee=False,
        mannequin_spectacle=False,
        emploi_lien_formation=True,
        apprentissage_valide_opco=None,
        autres_emplois=[],
    )
    return values


class Desk:
    """One sandbox and one database for a module; each case takes dossiers of its own."""

    def __init__(self, database_url: str, dossiers: int = 60, seed: int = 13):
        self.engine = make_engine(database_url)
        Base.metadata.create_all(self.engine)
        self.sessions = session_factory(self.engine)
        self.server = start_server(sandbox_store(dossiers, seed), rate_limit=1_000_000)
        self.store = self.server.store
        self.client = DSClient(
            self.server.url, self.server.token, budget=RequestBudget(1_000_000, 60), backoff_base=0.01, timeout=10
        )
        self.syncer = make_syncer(self.client, self.sessions)
        self.syncer.sync(1)
        make_pusher(self.client, self.sessions).push(1)
        # Dossiers an applicant can still edit, generated complete and on the current form.
        self._pool = [
            d.number
            for d in self.store.visible_dossiers(1)
            if d.state == "en_construction" and d.intent == "complete" and d.anomaly is None
        ]
        self._taken = 0

    def take(self) -> int:
        """A dossier for the next case, in turn: each case refiles it whole, so one may serve several."""
        self._taken += 1
        return self._pool[(self._taken - 1) % len(self._pool)]

    def file(self, number: int | None = None, **values) -> int:
        """The dossier (a fresh one by default) refiled as the base request with `values` changed."""
        number = self.take() if number is None else number
        original, record = self._original(number), self.store.dossier(number)
        record.values.clear()
        record.values.update(original)
        self.store.modify(number, **{**base_values(record), **values})
        return number

    def _original(self, number: int) -> dict:
        if not hasattr(self, "_originals"):
            self._originals = {}
        return self._originals.setdefault(number, dict(self.store.dossier(number).values))

    def run(self) -> None:
        """What the scheduler does after applicants' edits: a sync, then a push."""
        self.syncer.sync(1)
        summary = make_pusher(self.client, self.sessions).push(1)
        assert summary.failed == 0

    def shown(self, number: int) -> Shown:
        record = self.store.dossier(number)
        demarche = self.store.demarches[record.demarche]
        labels = frozenset(demarche.label(n).name for n in record.labels)
        return Shown(labels, dict(record.annotations), tuple(m.body for m in record.messages))

    def case(self, **values) -> Shown:
        number = self.file(**values)
        self.run()
        return self.shown(number)

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.engine.dispose()


def lines(text: str | None) -> list[str]:
    return [line.removeprefix("- ") for line in (text or "").splitlines()]


def deposit_of(desk: Desk, number: int) -> date:
    return desk.store.dossier(number).depose_at.date()
