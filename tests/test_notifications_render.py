"""Every template renders, in French, with realistic and with hostile data."""
from __future__ import annotations

from datetime import date

import pytest
from jinja2 import UndefinedError

from notifications.contexts import (
    CONTEXT_TYPES,
    AlertRow,
    DepotContext,
    DigestContext,
    WaitingRow,
    dossier_context,
)
from notifications.events import occurrences
from core.snapshot import snapshot_of
from notifications.render import TEMPLATES_DIR, environment, render
from notifications_factories import add_dossier, days_ago

HOSTILE = '<script>alert("x")</script>'


class _NoSession:
    def add(self, _):
        pass


def facts_for(template: str, name: str):
    base = dict(first_name=name, last_name="O'Brien", company_name=f"{name} & Fils")
    history = [("en_construction", days_ago(3)), ("en_instruction", days_ago(2))]
    kwargs = {
        "depot": dict(history=history[:1]),
        "incomplet": dict(completeness_status="incomplet", blocking=[f"Passeport : {name}", "Contrat de travail"]),
        "complet": dict(completeness_status="complet", completed_at=days_ago(1)),
        "en_instruction": dict(state="en_instruction", history=history),
        "accepte": dict(state="accepte", history=history + [("accepte", days_ago(1))],
                        apt_start=date(2026, 4, 1), apt_end=date(2026, 9, 30)),
        "refuse": dict(state="refuse", history=history + [("refuse", days_ago(1))]),
        "sans_suite": dict(state="sans_suite", history=history + [("sans_suite", days_ago(1))]),
        "apt_dates_invalid": dict(state="accepte", history=history + [("accepte", days_ago(1))],
                                  apt_start=date(2026, 4, 1), apt_end=date(2027, 6, 1), permit_expiry=date(2026, 12, 31)),
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


def test_incomplete_lists_missing_documents():
    facts = facts_for("incomplet", "Amina")
    occurrence = next(o for o in occurrences(facts) if o.template == "incomplet")
    message = render("incomplet", dossier_context(facts, occurrence, "applicant", "https://ds.example"))
    assert "- Passeport : Amina" in message.text and "- Contrat de travail" in message.text
    assert "<li>Contrat de travail</li>" in message.html


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
        waiting=(WaitingRow(12, "en construction", "01/02/2026", 37, HOSTILE, "https://ds.example/procedures/1/dossiers/12"),),
        alerts=(AlertRow(13, "dossier accepté : dates manquantes", "https://ds.example/procedures/1/dossiers/13"),),
    )
    message = render("digest", context)
    assert "2 dossier(s)" in message.subject
    assert "n° 12" in message.text and "37 jours" in message.text and "Dossier n° 13" in message.text
    assert "<script>" not in message.html
    assert 'href="https://ds.example/procedures/1/dossiers/12"' in message.html


def test_a_template_only_takes_its_own_context():
    context = DepotContext("applicant", 1, "A", "B", "01/01/2026", "https://ds.example/dossiers/1")
    with pytest.raises(TypeError):
        render("accepte", context)


def test_undeclared_fields_fail_loudly():
    template = environment().from_string("{{ dossier_number }} {{ not_a_field }}")
    with pytest.raises(UndefinedError):
        template.render(dossier_number=1)


def test_every_template_has_text_and_html():
    files = {path.name for path in TEMPLATES_DIR.glob("[!_]*")}
    assert files == {f"{name}.{ext}" for name in CONTEXT_TYPES for ext in ("txt", "html")}
