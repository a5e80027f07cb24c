"""Regulated professions recognised by the job title (`regulated_professions.yaml`).

A regulated profession needs the attestation of its professional order or a qualification certificate
(docs/apt-consistency.md#regulated-professions); the applicant's yes/no alone misses the cases where the job
title says so. The table is data, validated at load with an error naming the file and the line of the entry.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml

from mappings.procedure import DefinitionError

PROFESSIONS_FILE = Path(__file__).parent / "regulated_professions.yaml"
# Words that name no profession on their own: a keyword made of one of them would flag half the student jobs.
GENERIC_WORDS = frozenset(
    {
        "agent",
        "assistant",
        "assistante",
        "conseiller",
        "conseillere",
        "chauffeur",
        "conducteur",
        "moniteur",
        "guide",
        "comptable",
        "pharmacie",
        "securite",
        "surete",
        "animateur",
        "professeur",
        "coach",
        "educateur",
        "technicien",
        "aide",
        "auxiliaire",
        "interne",
        "stagiaire",
        "juriste",
        "vendeur",
    }
)
FIELDS = {"key", "label", "keywords", "category", "exclude", "sources"}
_NORMALISED = re.compile(r"^[a-z0-9]+( [a-z0-9]+)*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Profession:
    key: str
    label: str  # French, for agents
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @cached_property
    def _keyword_pattern(self) -> re.Pattern:
        return _word_start(self.keywords)

    @cached_property
    def _exclude_pattern(self) -> re.Pattern | None:
        return _word_start(self.exclude) if self.exclude else None

    def named_by(self, normalised_title: str) -> bool:
        if not self._keyword_pattern.search(normalised_title):
            return False
        return self._exclude_pattern is None or not self._exclude_pattern.search(normalised_title)


def _word_start(phrases) -> re.Pattern:
    """Any of the phrases, starting at a word boundary (a prefix match)."""
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in phrases) + ")")


def normalise_title(text: str) -> str:
    """ "Moniteur d'auto-école" → "moniteur d auto ecole"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def profession_of(job_title: str | None, professions: tuple[Profession, ...]) -> Profession | None:
    """The first regulated profession the job title names, None when it names none."""
    title = normalise_title(job_title or "")
    if not title:
        return None
    return next((profession for profession in professions if profession.named_by(title)), None)


def _entry(raw, where: str) -> Profession:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: an entry is a mapping with key, label and keywords")
    unknown = set(raw) - FIELDS
    if unknown:
        raise DefinitionError(f"{where}: unknown field(s) {sorted(unknown)}")
    key, label, keywords, exclude = raw.get("key"), raw.get("label"), raw.get("keywords"), raw.get("exclude", [])
    if not isinstance(key, str) or not _KEY.match(key):
        raise DefinitionError(f"{where}: key must be lower-case letters, digits and _, got {key!r}")
    if not isinstance(label, str) or not label.strip():
        raise DefinitionError(f"{where}: {key} has no label")
    return Profession(
        key, label.strip(), _phrases(keywords, "keywords", key, where), _phrases(exclude, "exclude", key, where)
    )


def _phrases(phrases: object, name: str, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(phrases, list) or (name == "keywords" and not phrases):
        raise DefinitionError(
            f"{where}: {key}.{name} must be a list" + (" of at least one keyword" if name == "keywords" else "")
        )
    for phrase in phrases:
        if not isinstance(phrase, str) or not _NORMALISED.match(phrase):
            raise DefinitionError(
                f"{where}: {key}.{name} {phrase!r} is not normalised "
                f"(lower case, no accents, words of a-z and 0-9: {normalise_title(str(phrase))!r})"
            )
        if name == "keywords" and phrase in GENERIC_WORDS:
            raise DefinitionError(f"{where}: {key}.keywords {phrase!r} is a generic word, not a profession")
    return tuple(phrases)


def load_professions(path: Path | str = PROFESSIONS_FILE) -> tuple[Profession, ...]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        document, raw = yaml.compose(text), yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name} is not valid YAML: {error}") from None
    if document is None or not isinstance(raw, list) or not raw:
        raise DefinitionError(f"{path.name}: expected a list of professions")
    professions, keys = [], set()
    for node, entry in zip(document.value, raw, strict=False):
        where = f"{path.name} line {node.start_mark.line + 1}"
        profession = _entry(entry, where)
        if profession.key in keys:
            raise DefinitionError(f"{where}: key {profession.key!r} is listed twice")
        keys.add(profession.key)
        professions.append(profession)
    return tuple(professions)


@cache
def default_professions() -> tuple[Profession, ...]:
    return load_professions()
