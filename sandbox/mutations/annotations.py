"""Private annotations: `dossierModifierAnnotations` (several at once, each saved or refused on its own)
and the deprecated one-type mutations (docs/ds-mutations.md#annotations)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime

from sandbox.champs import render_champ
from sandbox.mutations.base import Rejected, check_instructeur, dossier_view, mutation

# AnnotationValueInput key expected for each annotation type de champ (the types DS accepts).
VALUE_KEYS = {
    "text": "text",
    "textarea": "textarea",
    "email": "email",
    "checkbox": "checkbox",
    "yes_no": "yesNo",
    "date": "date",
    "datetime": "datetime",
    "integer_number": "integerNumber",
    "decimal_number": "decimalNumber",
    "drop_down_list": "dropDownList",
    "multiple_drop_down_list": "multipleDropDownList",
    "repetition": "repetition",
}
# The types each deprecated mutation may write.
SINGLE_TYPES = {
    "text": ("text", "textarea"),
    "checkbox": ("checkbox", "yes_no"),
    "date": ("date",),
    "datetime": ("datetime",),
    "integer_number": ("integer_number",),
    "decimal_number": ("decimal_number",),
    "drop_down_list": ("drop_down_list",),
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _decode(annotation_id: str) -> tuple[int | None, str | None]:
    """The stable id and the row of a champ id ("Champ-<stable id>" or "Champ-<stable id>|<row>")."""
    try:
        text = base64.b64decode(annotation_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    kind, _, rest = text.partition("-")
    stable, _, row = rest.partition("|")
    if kind != "Champ" or not stable.isdigit():
        return None, None
    return int(stable), row or None


class Annotations:
    """A dossier's annotations as its revision defines them, repetition children included."""

    def __init__(self, context, dossier):
        self.context, self.dossier = context, dossier
        revision = context["store"].demarches[dossier.demarche].revisions[dossier.revision]
        self.parents = {}
        self.definitions = {}
        for definition in revision.annotations:
            self.definitions[definition.stable_id] = definition
            for child in definition.champs:
                self.definitions[child.stable_id] = child
                self.parents[child.stable_id] = definition

    def find(self, annotation_id: str, types) -> tuple | None:
        """(definition, row) of an annotation of one of `types`, or None as DS's "n’existe pas"."""
        stable_id, row = _decode(annotation_id)
        definition = self.definitions.get(stable_id)
        if definition is None or definition.type not in types:
            return None
        if (stable_id in self.parents) != (row is not None):
            return None
        return definition, row

    def set(self, definition, row: str | None, value) -> None:
        values = self.dossier.annotations
        if row is None:
            values[definition.key] = value
            return
        parent = self.parents[definition.stable_id]
        rows = list(values.get(parent.key) or [])
        for index, (row_id, cells) in enumerate(rows):
            if row_id == row:
                rows[index] = (row_id, {**cells, definition.key: value})
                break
        else:
            rows.append((row, {definition.key: value}))
        values[parent.key] = rows

    def add_rows(self, definition, count: int) -> None:
        rows = list(self.dossier.annotations.get(definition.key) or [])
        start = len(rows)
        rows.extend((f"{self.dossier.number}{definition.stable_id}{start + i + 1:03d}", {}) for i in range(count))
        self.dossier.annotations[definition.key] = rows

    def rendered(self, definition, row: str | None) -> dict:
        context, dossier = self.context, self.dossier
        ctx = dossier_view(context, dossier)._render_context()
        if row is None:
            value = dossier.annotations.get(definition.key)
        else:
            parent = self.parents[definition.stable_id]
            value = next(
                (
                    cells.get(definition.key)
                    for row_id, cells in dossier.annotations.get(parent.key) or []
                    if row_id == row
                ),
                None,
            )
        return render_champ(
            definition, value, dossier.annotations_updated_at or dossier.depose_at, dossier.number, ctx, row
        )

    def saved(self) -> None:
        store = self.context["store"]
        self.dossier.annotations_updated_at = store.bump(self.dossier)
        store.emit("dossier_modifie", self.dossier)


def _validated(definition, value):
    """The value as stored, or DS's validation error (champs_private_value)."""
    if (
        definition.type == "drop_down_list"
        and definition.options
        and not definition.other_option
        and value not in definition.options
    ):
        raise Rejected(f"« {value} » n’est pas une option de l’annotation « {definition.label} »")
    if definition.type == "multiple_drop_down_list":
        unknown = [v for v in value if definition.options and v not in definition.options]
        if unknown:
            raise Rejected(f"« {unknown[0]} » n’est pas une option de l’annotation « {definition.label} »")
        return tuple(value)
    if definition.type == "email" and value and not EMAIL.match(value):
        raise Rejected(f"L’annotation « {definition.label} » n’est pas une adresse électronique valide")
    if definition.type == "date":
        return value.isoformat() if isinstance(value, date) else date.fromisoformat(value).isoformat()
    if definition.type == "datetime" and not isinstance(value, datetime):
        return datetime.fromisoformat(str(value))
    return value


@mutation("DossierModifierAnnotationsPayload")
def dossierModifierAnnotations(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    check_instructeur(context, dossier, instructeur)
    annotations = Annotations(context, dossier)
    saved, errors = [], []
    for wanted in input["annotations"]:
        found = annotations.find(wanted["id"], VALUE_KEYS)
        if found is None:
            errors.append(f'L‘annotation "{wanted["id"]}" n’existe pas')
            continue
        definition, row = found
        value = (wanted["value"] or {}).get(VALUE_KEYS[definition.type])
        if value is None:
            errors.append(f'L‘annotation "{wanted["id"]}" n’est pas de type attendu')
            continue
        if definition.type == "repetition":
            annotations.add_rows(definition, value)
        else:
            try:
                annotations.set(definition, row, _validated(definition, value))
            except Rejected as rejected:
                errors.extend(rejected.messages)
                continue
        saved.append((definition, row))
    if saved:
        annotations.saved()
    return {
        "annotations": [annotations.rendered(definition, row) for definition, row in saved],
        "errors": [{"message": m} for m in errors] or None,
        "_applied": bool(saved),
    }


def _modify_one(context, input, load, input_type: str, convert=lambda value: value) -> dict:
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    check_instructeur(context, dossier, instructeur)
    annotations = Annotations(context, dossier)
    found = annotations.find(input["annotationId"], SINGLE_TYPES[input_type])
    if found is None:
        raise Rejected(f'L’annotation "{input["annotationId"]}" n’existe pas')
    definition, row = found
    annotations.set(definition, row, _validated(definition, convert(input["value"])))
    annotations.saved()
    return {"annotation": annotations.rendered(definition, row)}


@mutation("DossierModifierAnnotationTextPayload")
def dossierModifierAnnotationText(context, input, load):
    return _modify_one(context, input, load, "text")


@mutation("DossierModifierAnnotationCheckboxPayload")
def dossierModifierAnnotationCheckbox(context, input, load):
    return _modify_one(context, input, load, "checkbox", bool)


@mutation("DossierModifierAnnotationDatePayload")
def dossierModifierAnnotationDate(context, input, load):
    return _modify_one(context, input, load, "date")


@mutation("DossierModifierAnnotationDatetimePayload")
def dossierModifierAnnotationDatetime(context, input, load):
    return _modify_one(context, input, load, "datetime")


@mutation("DossierModifierAnnotationIntegerNumberPayload")
def dossierModifierAnnotationIntegerNumber(context, input, load):
    return _modify_one(context, input, load, "integer_number", int)


@mutation("DossierModifierAnnotationDecimalNumberPayload")
def dossierModifierAnnotationDecimalNumber(context, input, load):
    return _modify_one(context, input, load, "decimal_number", float)


@mutation("DossierModifierAnnotationDropDownListPayload")
def dossierModifierAnnotationDropDownList(context, input, load):
    return _modify_one(context, input, load, "drop_down_list")


@mutation("DossierModifierAnnotationAjouterLignePayload")
def dossierModifierAnnotationAjouterLigne(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    check_instructeur(context, dossier, instructeur)
    annotations = Annotations(context, dossier)
    found = annotations.find(input["annotationId"], ("repetition",))
    if found is None:
        raise Rejected(f'L’annotation "{input["annotationId"]}" n’existe pas')
    definition, _ = found
    annotations.add_rows(definition, 1)
    annotations.saved()
    champ = annotations.rendered(definition, None)
    return {"annotation": champ, "errors": None}
