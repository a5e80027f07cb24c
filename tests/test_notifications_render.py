"""Every template renders, in French, with realistic and with hostile data."""

from __future__ import annotations

from datetime import date

import pytest
from jinja2 import UndefinedError
from notifications_factories import add_dossier, days_ago

from core.snapshot import snapshot_of
from notifications.contexts import (
    CONTEXT_TYPES,
    AlertRow,
    DepotContext,
    DigestContext,
    WaitingRow,
    dossier_context,
)
from notifications.events import occurrences
from notifications.render import TEMPLATES_DIR, environment, render

HOSTILE = '<script>alert("x")</script>'


class _NoSession:
    def add(self, _):
        pass


def facts_for(template: str, name: str):
    base = dict(first_name=name, last_name="O'Brien", company_name=f"{name} & Fils")
    history = [("en_construction", days_ago(3)), ("en_instruction", days_ago(2))]
    kwargs = {
        "depot": dict(history=history[:1]),
        "hors_perimetre": dict(
            history=history[:1],
            completeness_status="hors_perimetre",
            blocking=[
                ("out_of_scope_nationality", f"{name} : ressortissant d'un pays de l'Union européenne", "nationalite")
            ],
        ),
        "incomplet": dict(
            completeness_status="incomplet",
            blocking=[("missing_document", "Pièce manquante : passeport", "pj_passeport"), f"SIRET de {name} invalide"],
        ),
        "complet": dict(completeness_status="complet", completed_at=days_ago(1)),
        "en_instruction": dict(state="en_instruction", history=history),
        "accepte": dict(
            state="accepte",
            history=history + [("accepte", days_ago(1))],
            apt_start=date(2026, 4, 1),
            apt_end=date(2026, 9, 30),
        ),
        "refuse": dict(state="refuse", history=history + [("refuse", days_ago(1))]),
        "sans_suite": dict(state="sans_suite", history=history + [("sans_suite", days_ago(1))]),
        "apt_dates_invalid": dict(
            state="accepte",
            history=history + [("accepte", days_ago(1))],
            apt_start=date(2026, 4, 1),
            apt_end=date(2027, 6, 1),
            permit_expiry=date(2026, 12, 31),
        ),
    }[template]
    return snapshot_of(add_dossier(_NoSession(), 4242, **base, **kwargs))


DOSSIER_TEMPLATES = [name for name in CONTEXT_TYPES if name != "digest"]


@pytest.mark.parametrize("template", DOSSIER_TEMPLATES)
@pytest.mark.parametrize("role", ["applicant", "employer"])
@pytest.mark.parametrize("name", ["Amina", HOSTILE])
def test_dossier_templates_render(template, role, name):
    facts = facts_for(template, name)
    occurrence = next(o for o in occurrences(facts) if o.template == template)
    message = render(template, dossier_context(facts, occurrence, role, "https://ds.example"))
    assert "4242" in message.subject
    assert "Bonjour" in message.text and "Bonjour" in message.html
    assert "<script>" not in message.html
    assert "{{" not in message.text + message.html
    if role == "employer" and template != "apt_dates_invalid":
        assert f"{name} O'Brien" in message.text
        assert "https://ds.example/dossiers/4242" not in message.text  # the employer has no DS account
    if role == "applicant":
        assert "https://ds.example/dossiers/4242" in message.text
    if name == HOSTILE and role == "employer" and template != "apt_dates_invalid":
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in message.html
        assert "&lt;script&gt;" in message.html and HOSTILE in message.text


MISSING = ("missing_document", "Pièce manquante : passeport (pages d'identité)", "pj_passeport")
TO_REPLACE = (
    "file_type_not_allowed",
    "Le fichier « contrat.zip » (contrat de travail) n'est pas au format accepté.",
    "pj_contrat",
)
TO_CORRECT = (
    "invalid_siret",
    "Le numéro SIRET de l'employeur n'est pas valide (14 chiffres, clé de contrôle).",
    "employeur_siret",
)
GROUP_CASES = {
    "missing": (
        [MISSING],
        "Pièces à ajouter :",
        "- Passeport (pages d'identité)",
        "ajouter les pièces manquantes",
        "pièces manquantes",
    ),
    "replace": (
        [TO_REPLACE],
        "Pièces à remplacer",
        f"- {TO_REPLACE[1]}",
        "remplacer les fichiers refusés",
        "pièces à remplacer",
    ),
    "correct": (
        [TO_CORRECT],
        "Réponses à corriger dans le formulaire :",
        f"- {TO_CORRECT[1]}",
        "corriger les réponses indiquées",
        "réponses à corriger",
    ),
}
HEADINGS = ("Pièces à ajouter", "Pièces à remplacer", "Réponses à corriger")


def render_incomplet(blocking, role="applicant"):
    facts = snapshot_of(add_dossier(_NoSession(), 4242, completeness_status="incomplet", blocking=blocking))
    occurrence = next(o for o in occurrences(facts) if o.template == "incomplet")
    return render("incomplet", dossier_context(facts, occurrence, role, "https://ds.example"))


@pytest.mark.parametrize("case", GROUP_CASES)
@pytest.mark.parametrize("role", ["applicant", "employer"])
def test_incomplete_words_each_finding_group_its_own_way(case, role):
    blocking, heading, item, action, subject = GROUP_CASES[case]
    message = render_incomplet(blocking, role)
    assert heading in message.text and item in message.text
    assert action in message.text and action in message.html
    assert message.subject.endswith(subject)
    # Only the group present is announced: a wrong SIRET is not called a missing document.
    assert [h for h in HEADINGS if h in message.text] == [h for h in HEADINGS if heading.startswith(h)]
    assert "Il manque" not in message.text and "Ajoutez les pièces manquantes" not in message.text
    if role == "employer":
        assert ("transmettez-le-lui" in message.text) == (case != "correct")
        assert ("vérifiez-la ensemble" in message.text) == (case == "correct")


CONDITION = (
    "job_outside_course",
    "L'emploi n'est pas en lien avec la formation suivie : avec 1375 h, "
    "l'autorisation ne peut être accordée que pour un emploi qui s'inscrit dans le cursus de l'étudiant.",
    "emploi_lien_formation",
)


@pytest.mark.parametrize("role", ["applicant", "employer"])
def test_a_condition_not_met_alone_is_told_as_a_condition_not_as_something_to_correct(role):
    message = render_incomplet([CONDITION], role)
    text = " ".join(message.text.split())
    assert message.subject.endswith("conditions non remplies")
    assert "ne remplit pas, en l'état, une condition de l'autorisation" in text
    assert "Conditions de l'autorisation non remplies :" in text and CONDITION[1] in text
    assert "apprécié par le service qui instruit la demande" in text and "Ce ne sont pas des erreurs" in text
    for wording in (
        "corriger les réponses",
        "il vous reste",
        "ne peut pas encore être instruite",
        "doit ajouter",
        "Compléter ma demande",
    ):
        assert wording not in text and wording not in message.html


def test_incomplete_with_every_group_lists_them_in_order_with_one_sentence():
    message = render_incomplet([TO_CORRECT, MISSING, TO_REPLACE])
    text = message.text
    positions = [text.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert (
        "ajouter les pièces manquantes, remplacer les fichiers refusés et corriger les réponses indiquées "
        "dans votre dossier"
    ) in text
    assert "<li>Passeport (pages d&#39;identité)</li>" in message.html
    assert message.subject.endswith("pièces manquantes")


def test_wrong_dates_message_explains_a_new_request():
    facts = facts_for("apt_dates_invalid", "Amina")
    occurrence = next(o for o in occurrences(facts) if o.template == "apt_dates_invalid")
    message = render("apt_dates_invalid", dossier_context(facts, occurrence, "applicant", "https://ds.example"))
    assert "nouvelle demande" in message.text
    assert "dépasse la durée maximale de 12 mois" in message.text
    assert "après l'expiration du titre de séjour" in message.text
    assert "https://ds.example/commencer/" in message.text


@pytest.mark.parametrize("service", ["MOE Paris", HOSTILE])
def test_digest_renders(service):
    context = DigestContext(
        service=service,
        generated_on="10/03/2026",
        thresholds=("en construction depuis plus de 7 jours",),
        waiting=(
            WaitingRow(12, "en construction", "01/02/2026", 37, HOSTILE, "https://ds.example/procedures/1/dossiers/12"),
        ),
        alerts=(AlertRow(13, "dossier accepté : dates manquantes", "https://ds.example/procedures/1/dossiers/13"),),
        summary="En bref : 1 alerte ; 1 dossier en attente au-delà des seuils.",
    )
    message = render("digest", context)
    assert message.subject.startswith("2 dossiers à traiter")
    assert "n° 12" in message.text and "37 jours" in message.text and "n° 13 –" in message.text
    assert "<script>" not in message.html
    assert 'href="https://ds.example/procedures/1/dossiers/12"' in message.html


def test_a_template_only_takes_its_own_context():
    context = DepotContext("applicant", 1, "A", "B", "01/01/2026", "https://ds.example/dossiers/1", "S", "", ())
    with pytest.raises(TypeError):
        render("accepte", context)


def test_undeclared_fields_fail_loudly():
    template = environment().from_string("{{ dossier_number }} {{ not_a_field }}")
    with pytest.raises(UndefinedError):
        template.render(dossier_number=1)


def test_every_template_has_text_and_html():
    files = {path.name for path in TEMPLATES_DIR.glob("[!_]*")}
    assert files == {f"{name}.{ext}" for name in CONTEXT_TYPES for ext in ("txt", "html")}


def test_the_accepte_mail_tells_the_employer_where_to_check_the_authorisation_and_with_what():
    facts = facts_for("accepte", "Amina")
    occurrence = next(o for o in occurrences(facts) if o.template == "accepte")
    message = render(
        "accepte",
        dossier_context(
            facts, occurrence, "employer", "https://ds.example", validity_url="https://apt.example.gouv.fr"
        ),
    )
    sentence = (
        "Avant le début du contrat, vérifiez qu'elle est en vigueur sur https://apt.example.gouv.fr/ : il vous "
        "faut le numéro de dossier (4242) et la date de naissance d'Amina O'Brien."
    )
    assert sentence in " ".join(message.text.split())
    assert '<a href="https://apt.example.gouv.fr/">vérifiez qu\'elle est en vigueur</a>' in message.html
    # Without a published validity check, no link, and the advice that stands without it.
    unlinked = render("accepte", dossier_context(facts, occurrence, "employer", "https://ds.example"))
    assert "Vérifiez ses dates de validité avant le début du contrat." in unlinked.text
    assert "vérifiez qu'elle est en vigueur" not in unlinked.text
    applicant = render(
        "accepte",
        dossier_context(
            facts, occurrence, "applicant", "https://ds.example", validity_url="https://apt.example.gouv.fr"
        ),
    )
    assert "apt.example.gouv.fr" not in applicant.text  # the student has nothing to check
