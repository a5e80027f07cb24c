"""What a dossier should show on DS (mappings.target): one mapping from its status to its label and its
« Complétude » option, the annotations agents read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.snapshot import FindingFact
from mappings.checks import A_VERIFIER, COMPLET, HORS_PERIMETRE, INCOMPLET
from mappings.procedure import default_procedure
from mappings.target import STATUS_DISPLAY, status_display, target_for
from tests.snapshots import make_snapshot

STATUSES = (COMPLET, INCOMPLET, A_VERIFIER, HORS_PERIMETRE)
SIRET = FindingFact("invalid_siret", "blocking", "Le numéro SIRET de l'employeur n'est pas valide.", "employeur_siret")
MISSING = FindingFact("missing_document", "blocking", "Pièce manquante : passeport", "pj_passeport")
UNDER = FindingFact(
    "out_of_scope_under_threshold", "blocking", "Sous le seuil : aucune APT n'est nécessaire.", "heures_nombre"
)


def test_each_status_has_one_label_and_one_option_of_the_procedure():
    procedure = default_procedure()
    assert set(STATUS_DISPLAY) == set(STATUSES)
    assert sorted(d.label_key for d in STATUS_DISPLAY.values()) == sorted(label.key for label in procedure.labels)
    assert sorted(d.option for d in STATUS_DISPLAY.values()) == sorted(procedure.champ("wif_statut").options)


@pytest.mark.parametrize(
    "status, findings, label, option",
    [
        (INCOMPLET, (SIRET,), "incomplet", "incomplet"),  # not « À vérifier »: blocked on the applicant's side
        (INCOMPLET, (MISSING,), "incomplet", "incomplet"),
        (HORS_PERIMETRE, (UNDER,), "hors_perimetre", "hors périmètre"),  # not Complétude « à vérifier »
        (A_VERIFIER, (), "a_verifier", "à vérifier"),
        (COMPLET, (), "complet", "complet"),
        (None, (), "a_verifier", "à vérifier"),  # never evaluated: for an agent
    ],
)
def test_the_label_and_the_completeness_annotation_follow_the_status(status, findings, label, option):
    target = target_for(make_snapshot(completeness_status=status, findings=findings))
    assert target.label_keys == frozenset({label})
    assert target.annotations["wif_statut"] == option
    assert status_display(status).label_key == label


def test_a_routing_reason_already_in_the_findings_is_not_repeated():
    reason = "Le département 988 (Nouvelle-Calédonie) est hors du périmètre de la procédure : orientation manuelle."
    view = make_snapshot(
        completeness_status=HORS_PERIMETRE,
        routing_reason=reason,
        out_of_scope=True,
        findings=(FindingFact("out_of_scope_territory", "blocking", reason, "titre_departement"),),
    )
    assert target_for(view).annotations["wif_anomalies"] == f"- {reason}"


@pytest.mark.parametrize(
    "kind, cap, text",
    [
        (
            "threshold",
            Decimal(964),
            "1040 h sur l'année du titre la plus chargée (à partir du 01/09/2025) / seuil 964 h (APT nécessaire "
            "au-delà)",
        ),
        (
            "ceiling",
            Decimal(804),
            "1040 h sur l'année du titre la plus chargée (à partir du 01/09/2025) / plafond 804 h",
        ),
    ],
)
def test_the_hours_annotation_says_whether_the_figure_is_a_threshold_or_a_cap(kind, cap, text):
    view = make_snapshot(
        annual_hours=Decimal(1040), hours_year_start=date(2025, 9, 1), hours_cap=cap, hours_limit_kind=kind
    )
    assert target_for(view).annotations["wif_heures_annuelles"] == text
