"""Render a typed context into a French e-mail (subject, text, HTML)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.contexts import CONTEXT_TYPES, DigestContext, DossierMessage
from notifications.french import de

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Names, companies and finding texts come from applicants: always escaped in HTML.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["de"] = de  # « contact de l'Agence … », « du Service … »: notifications.french
    return env


def _variables(context) -> dict:
    # Shallow on purpose: nested rows stay dataclasses, so StrictUndefined guards them too.
    return {f.name: getattr(context, f.name) for f in fields(context)}


def _subject(template: str, context) -> str:
    assert isinstance(context, (DossierMessage, DigestContext))
    return context.subject()


def render(template: str, context) -> RenderedMessage:
    expected = CONTEXT_TYPES[template]
    if type(context) is not expected:
        raise TypeError(f"template {template!r} takes a {expected.__name__}, got {type(context).__name__}")
    env, variables = environment(), _variables(context)
    return RenderedMessage(
        subject=_subject(template, context),
        text=env.get_template(f"{template}.txt").render(variables),
        html=env.get_template(f"{template}.html").render(variables),
    )
