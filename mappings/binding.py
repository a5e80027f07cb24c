"""The binding of the procedure's keys to the ids DS assigned on one démarche.

DS gives every champ its stable id when an administrateur adds it in the
form editor (`Champ-<stable id>`, base64, is the champ's descriptor id);
procedure.yaml holds none. `bind` matches each key once against a published
revision: the overrides of mappings/bindings.yaml first, then the ids of the
previous binding (a label renamed in DS keeps its champ), then the
(normalised label, type) pair, repetition children inside their parent only.
What it cannot settle is reported with the candidates DS has; nothing is
guessed. Pure functions over plain records: the descriptors come from
`connector.revision`, the stored rows from `core.models.ChampBinding`.

At run time the mapping, push, prefill links and the drift check read the
stored binding only: no label is ever compared again.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from mappings.procedure import LAYOUT_TYPES, MAPPINGS_DIR, DefinitionError, Procedure

OVERRIDES_FILE = MAPPINGS_DIR / "bindings.yaml"
CHAMP, ANNOTATION, LABEL = "champ", "annotation", "label"
LABEL_TYPE = "label"  # the `type` of a bound DS label (étiquette)
MAX_CANDIDATES = 3


@lru_cache(maxsize=4096)
def normalise_label(label: str) -> str:
    """Case, accents, apostrophes, dashes, punctuation and spacing do not tell two labels apart."""
    decomposed = unicodedata.normalize("NFKD", label or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = letters.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    return " ".join(re.sub(r"[\W_]+", " ", letters.casefold()).split())


@dataclass(frozen=True)
class Descriptor:
    """A champ, annotation or label of a DS revision, as `connector.revision` reads it."""

    section: str  # champ | annotation | label
    id: str  # DS descriptor id (base64 of Champ-<stable id>), or the label's id
    stable_id: int  # the integer an administrateur sees in DS's editor
    type: str  # DS type_champ (text, drop_down_list...), `label` for a label
    label: str
    parent_id: str | None = None  # the repetition a child belongs to
    required: bool = False
    options: tuple = ()

    @classmethod
    def of(cls, raw: Mapping) -> Descriptor:
        return cls(
            raw["section"],
            raw["id"],
            int(raw["stable_id"]),
            raw["type"],
            raw["label"] or "",
            raw.get("parent_id"),
            bool(raw.get("required")),
            tuple(raw.get("options") or ()),
        )


@dataclass(frozen=True)
class BoundChamp:
    key: str
    descriptor_id: str
    stable_id: int
    type: str
    label: str  # the label DS showed when the key was bound


@dataclass(frozen=True)
class Binding:
    """One démarche's stored binding, as a plain object handed to the rules."""

    demarche_number: int
    revision_id: str | None
    champs: Mapping[str, BoundChamp]
    _lookups: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def id_of(self, key: str) -> str | None:
        bound = self.champs.get(key)
        return bound.descriptor_id if bound else None

    def lookup(self, definitions) -> dict:
        """descriptor id → definition, for a section of the procedure (built once)."""
        cached = self._lookups.get(id(definitions))
        if cached is None or cached[0] is not definitions:
            table = {self.champs[d.key].descriptor_id: d for d in definitions if d.key in self.champs}
            cached = self._lookups[id(definitions)] = (definitions, table)
        return cached[1]

    def missing(self, keys: Iterable[str]) -> list[str]:
        return [key for key in keys if key not in self.champs]


@dataclass(frozen=True)
class Problem:
    kind: str  # unmatched | ambiguous | retyped | override_unknown
    key: str
    section: str
    expected_label: str
    expected_type: str
    candidates: tuple[Descriptor, ...] = ()
    detail: str = ""

    def line(self) -> str:
        what = {
            "unmatched": "no DS champ with this label and type",
            "ambiguous": "several DS champs have this label and type",
            "retyped": "DS has this champ with another type",
            "override_unknown": "the stable id of mappings/bindings.yaml is not in the revision",
        }[self.kind]
        text = f"{self.kind:<16} {self.key} « {self.expected_label} » ({self.expected_type}): {what}"
        if self.detail:
            text += f" ({self.detail})"
        if self.candidates:
            text += "; candidates: " + ", ".join(f"{c.stable_id} « {c.label} » ({c.type})" for c in self.candidates)
        return text


@dataclass(frozen=True)
class Change:
    """What changed on DS since the stored binding (a rebind reports only these)."""

    kind: str  # new | removed | retyped | renamed
    stable_id: int
    label: str
    key: str | None = None
    detail: str = ""

    def line(self) -> str:
        subject = f"{self.key} → {self.stable_id}" if self.key else str(self.stable_id)
        return f"{self.kind:<8} {subject} « {self.label} »" + (f": {self.detail}" if self.detail else "")


@dataclass
class BindResult:
    demarche_number: int
    revision_id: str | None
    bound: dict[str, BoundChamp] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unclaimed: list[Descriptor] = field(default_factory=list)  # DS champs no key claims
    changes: list[Change] | None = None  # against the previous binding; None on a first bind
    required: tuple[str, ...] = ()

    @property
    def blocking(self) -> list[Problem]:
        """What forbids storing: a required key unbound, any ambiguity, any type change."""
        return [
            p for p in self.problems if p.kind in ("ambiguous", "retyped", "override_unknown") or p.key in self.required
        ]

    @property
    def unmatched(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "unmatched"]

    @property
    def ambiguous(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "ambiguous"]

    @property
    def retyped(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "retyped"]

    def binding(self) -> Binding:
        return Binding(self.demarche_number, self.revision_id, dict(self.bound))

    def pairing(self) -> Binding:
        """The bound keys, plus each retyped key with the one champ it would be:
        what the drift check compares (a type change is a fix to make in DS)."""
        pairs = dict(self.bound)
        for problem in self.retyped:
            if len(problem.candidates) == 1:
                c = problem.candidates[0]
                pairs.setdefault(problem.key, BoundChamp(problem.key, c.id, c.stable_id, c.type, c.label))
        return Binding(self.demarche_number, self.revision_id, pairs)


def bind(
    procedure: Procedure,
    demarche_number: int,
    revision_id: str | None,
    descriptors: Iterable[Mapping | Descriptor],
    overrides: Mapping[str, int] | None = None,
    previous: Binding | None = None,
    previous_descriptors: Iterable[Mapping | Descriptor] | None = None,
) -> BindResult:
    """Bind every key of `procedure` to a descriptor of the revision.

    `previous` (the stored binding) keeps each key on its stable id whatever
    DS's label now is; `previous_descriptors` (the previous revision, when DS
    still has it) tells which unclaimed champs are new."""
    found = [d if isinstance(d, Descriptor) else Descriptor.of(d) for d in descriptors]
    result = BindResult(demarche_number, revision_id, required=procedure.required_keys())
    matcher = _Matcher(found, dict(overrides or {}), previous, result)
    matcher.section(CHAMP, procedure.champs, None)
    matcher.section(ANNOTATION, procedure.annotations, None)
    matcher.section(LABEL, tuple(_LabelAsDefinition(label.key, label.name) for label in procedure.labels), None)
    claimed = {b.descriptor_id for b in result.bound.values()}
    result.unclaimed = [d for d in found if d.id not in claimed and d.type not in LAYOUT_TYPES]
    if previous is not None:
        before = (
            None
            if previous_descriptors is None
            else [d if isinstance(d, Descriptor) else Descriptor.of(d) for d in previous_descriptors]
        )
        result.changes = _changes(result, previous, found, before)
    return result


@dataclass(frozen=True)
class _LabelAsDefinition:
    key: str
    label: str
    type: str = LABEL_TYPE
    champs: tuple = ()


class _Matcher:
    def __init__(
        self, found: list[Descriptor], overrides: dict[str, int], previous: Binding | None, result: BindResult
    ):
        self.found, self.overrides, self.previous, self.result = found, overrides, previous, result
        self.claimed: set[str] = set()

    def scope(self, section: str, parent_id: str | None) -> list[Descriptor]:
        return [d for d in self.found if d.section == section and d.parent_id == parent_id]

    def section(self, section: str, definitions, parent_id: str | None) -> None:
        scope = self.scope(section, parent_id)
        by_stable = {d.stable_id: d for d in scope}
        pending = []
        # Overrides and the previous binding are settled first, so that a
        # label match never takes a champ an administrateur or a past bind chose.
        for definition in definitions:
            if definition.key in self.overrides:
                descriptor = by_stable.get(self.overrides[definition.key])
                if descriptor is None:
                    self._problem(
                        "override_unknown", definition, section, (), f"stable id {self.overrides[definition.key]}"
                    )
                else:
                    self._take(definition, descriptor, section)
                continue
            kept = self.previous.champs.get(definition.key) if self.previous else None
            if kept is not None and kept.stable_id in by_stable and by_stable[kept.stable_id].id not in self.claimed:
                self._take(definition, by_stable[kept.stable_id], section)
                continue
            pending.append(definition)
        for definition in pending:
            self._by_label(definition, section, scope)

    def _by_label(self, definition, section: str, scope: list[Descriptor]) -> None:
        free = [d for d in scope if d.id not in self.claimed]
        wanted = normalise_label(definition.label)
        same_label = [d for d in free if normalise_label(d.label) == wanted]
        exact = [d for d in same_label if d.type == definition.type]
        if len(exact) == 1:
            self._take(definition, exact[0], section)
        elif exact:
            self._problem("ambiguous", definition, section, tuple(exact))
        elif same_label:
            self._problem("retyped", definition, section, tuple(same_label))
        else:
            self._problem("unmatched", definition, section, _candidates(definition, free))

    def _take(self, definition, descriptor: Descriptor, section: str) -> None:
        self.claimed.add(descriptor.id)
        if descriptor.type != definition.type:
            self._problem("retyped", definition, section, (descriptor,), f"{descriptor.type} on DS")
            return
        self.result.bound[definition.key] = BoundChamp(
            definition.key, descriptor.id, descriptor.stable_id, descriptor.type, descriptor.label
        )
        if definition.champs:
            self.section(section, definition.champs, descriptor.id)

    def _problem(self, kind: str, definition, section: str, candidates: tuple, detail: str = "") -> None:
        self.result.problems.append(
            Problem(
                kind,
                definition.key,
                section,
                definition.label,
                definition.type,
                candidates[:MAX_CANDIDATES] if kind != "ambiguous" else candidates,
                detail,
            )
        )
        # A repetition that is not bound leaves its children unbound too.
        for child in getattr(definition, "champs", ()):
            self.result.problems.append(
                Problem(
                    "unmatched",
                    child.key,
                    section,
                    child.label,
                    child.type,
                    (),
                    f"its repetition « {definition.label} » is not bound",
                )
            )


def _candidates(definition, free: list[Descriptor]) -> tuple[Descriptor, ...]:
    """The DS champs an administrateur might mean: same type first, then similar labels."""
    wanted = normalise_label(definition.label)

    def similarity(d: Descriptor) -> float:
        return difflib.SequenceMatcher(None, wanted, normalise_label(d.label)).ratio()

    same_type = sorted((d for d in free if d.type == definition.type), key=similarity, reverse=True)
    similar = sorted(
        (d for d in free if d.type != definition.type and similarity(d) >= 0.6), key=similarity, reverse=True
    )
    return tuple((same_type[: MAX_CANDIDATES - 1] + similar[:1] + same_type[MAX_CANDIDATES - 1 :])[:MAX_CANDIDATES])


def _changes(
    result: BindResult, previous: Binding, found: list[Descriptor], before: list[Descriptor] | None
) -> list[Change]:
    changes = []
    by_stable = {d.stable_id: d for d in found}
    for key, old in previous.champs.items():
        now = by_stable.get(old.stable_id)
        if now is None:
            changes.append(Change("removed", old.stable_id, old.label, key, "no longer in the published revision"))
            continue
        if now.type != old.type:
            changes.append(Change("retyped", old.stable_id, now.label, key, f"{old.type} → {now.type}"))
        if now.label != old.label:
            changes.append(Change("renamed", old.stable_id, now.label, key, f"was « {old.label} »"))
    known = {d.stable_id for d in before} if before is not None else {b.stable_id for b in previous.champs.values()}
    for key, bound in result.bound.items():
        if key not in previous.champs and bound.stable_id not in known:
            changes.append(Change("new", bound.stable_id, bound.label, key))
    if before is not None:
        changes += [
            Change("new", d.stable_id, d.label, None, f"{d.type}, claimed by no key")
            for d in result.unclaimed
            if d.section != LABEL and d.stable_id not in known
        ]
    return changes


def check(procedure: Procedure, binding: Binding | None, descriptors: Iterable[Mapping | Descriptor]) -> list[str]:
    """Why the stored binding cannot be used against this revision (empty: it can).

    Blocking only: no binding, a required key unbound or gone from the revision,
    a bound champ whose type changed. A renamed label is fine: ids decide."""
    if binding is None:
        return ["no binding"]
    problems = [f"{key} is not bound" for key in binding.missing(procedure.required_keys())]
    by_stable = {}
    for d in descriptors:
        d = d if isinstance(d, Descriptor) else Descriptor.of(d)
        by_stable[(d.section == LABEL, d.stable_id)] = d
    required = set(procedure.required_keys())
    for key, bound in binding.champs.items():
        now = by_stable.get((bound.type == LABEL_TYPE, bound.stable_id))
        if now is None:
            if key in required:
                problems.append(f"{key} (stable id {bound.stable_id}) is no longer in the published revision")
        elif now.type != bound.type:
            problems.append(f"{key} (stable id {bound.stable_id}) is now {now.type}, bound as {bound.type}")
    return problems


def load_overrides(path: Path | str | None = None, procedure: Procedure | None = None) -> dict[int, dict[str, int]]:
    """mappings/bindings.yaml: `<démarche number>: {key: <stable id>}`; a missing file is no override."""
    path = Path(path or OVERRIDES_FILE)
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name} is not valid YAML: {error}") from None
    keys = None
    if procedure is not None:
        keys = {d.key for d in procedure.all_champs()} | {label.key for label in procedure.labels}
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path.name}: expected `<démarche number>: {{key: <stable id>}}`")
    out: dict[int, dict[str, int]] = {}
    for number, pairs in raw.items():
        if not isinstance(number, int) or not isinstance(pairs, dict):
            raise DefinitionError(f"{path.name}: {number!r}: expected a démarche number and `key: <stable id>` pairs")
        for key, stable_id in pairs.items():
            if not isinstance(stable_id, int) or isinstance(stable_id, bool) or stable_id < 1:
                raise DefinitionError(
                    f"{path.name}: {number}/{key}: the stable id must be a positive integer, got {stable_id!r}"
                )
            if keys is not None and key not in keys:
                raise DefinitionError(f"{path.name}: {number}/{key}: no such key in procedure.yaml")
        out[number] = dict(pairs)
    return out
