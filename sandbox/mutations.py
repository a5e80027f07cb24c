"""Mutations of the sandbox (NOTES §13): errors as data, partial success for
annotations, the instructeur check, read-only tokens refused.
"""
from __future__ import annotations

import re
from datetime import date

from sandbox.champs import RenderContext, render_champ
from sandbox.ids import parse_gid
from sandbox.views import DossierView, groupe_view, hidden, label_view, not_found

READ_ONLY = "Le jeton utilisé est configuré seulement en lecture"
NO_ACCESS = "L’instructeur n’a pas les droits d’accès à ce dossier"
STATE_WORDS = {"en_instruction": "en instruction", "accepte": "accepté", "refuse": "refusé",
               "sans_suite": "classé sans suite", "en_construction": "en construction"}
# AnnotationValueInput key expected for each annotation type_champ.
VALUE_KEYS = {
    "text": "text", "textarea": "textarea", "email": "email", "checkbox": "checkbox", "yes_no": "yesNo",
    "date": "date", "datetime": "datetime", "integer_number": "integerNumber", "decimal_number": "decimalNumber",
    "drop_down_list": "dropDownList", "multiple_drop_down_list": "multipleDropDownList", "repetition": "repetition",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Rejected(Exception):
    """The mutation is refused; its messages go to the payload's `errors`."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


RESOLVERS = {}


def mutation(function):
    name = function.__name__

    def resolve(root, info, input):
        context = info.context
        payload = {"clientMutationId": input.get("clientMutationId"), "errors": None}
        if not context["token"].write:
            return payload | {"errors": [{"message": READ_ONLY}]}
        store = context["store"]
        with store.lock:
            try:
                result = function(context, input)
            except Rejected as rejected:
                return payload | {"errors": [{"message": m} for m in rejected.messages]}
            if result.pop("_applied", True):
                store.mutation_log.append((name, dict(input)))
        return payload | result

    RESOLVERS[name] = resolve
    return function


def _load_dossier(context, dossier_id):
    store = context["store"]
    dossier = store.dossiers.get(parse_gid(dossier_id, "Dossier") or -1)
    if dossier is None:
        raise not_found("Dossier")
    if not context["token"].can_read(dossier.demarche):
        raise hidden("Dossier")
    return dossier


def _check_instructeur(context, dossier, instructeur_id):
    store = context["store"]
    instructeur = store.instructeurs.get(parse_gid(instructeur_id, "Instructeur") or -1)
    if instructeur is None:
        raise not_found("Instructeur")
    groupe = store.demarches[dossier.demarche].groupe(dossier.groupe)
    if groupe is None or not groupe.has_instructeur(instructeur.number):
        raise Rejected(NO_ACCESS)
    return instructeur


def _dossier_view(context, dossier):
    return DossierView(dossier, context["store"], context)


def _label(context, dossier, label_id):
    demarche = context["store"].demarches[dossier.demarche]
    number = parse_gid(label_id, "Label")
    label = demarche.label(number) if number else None
    if label is None:
        if number and any(d.label(number) for d in context["store"].demarches.values()):
            raise Rejected("Le label n’appartient pas à la démarche du dossier")
        raise not_found("Label")
    return label


@mutation
def dossierAjouterLabel(context, input):
    dossier = _load_dossier(context, input["dossierId"])
    label = _label(context, dossier, input["labelId"])
    if label.number in dossier.labels:
        raise Rejected("Ce label est déjà associé au dossier")
    context["store"].add_label(dossier.number, label.number)
    return {"dossier": _dossier_view(context, dossier), "label": label_view(label)}


@mutation
def dossierSupprimerLabel(context, input):
    dossier = _load_dossier(context, input["dossierId"])
    label = _label(context, dossier, input["labelId"])
    if label.number not in dossier.labels:
        raise Rejected("Ce label n’est pas associé au dossier")
    context["store"].remove_label(dossier.number, label.number)
    return {"dossier": _dossier_view(context, dossier), "label": label_view(label)}


@mutation
def dossierChangerGroupeInstructeur(context, input):
    store = context["store"]
    dossier = _load_dossier(context, input["dossierId"])
    found = store.find_groupe(parse_gid(input["groupeInstructeurId"], "GroupeInstructeur") or -1)
    if found is None:
        raise not_found("GroupeInstructeur")
    demarche, groupe = found
    if demarche.number != dossier.demarche:
        raise Rejected("Le groupe instructeur n’appartient pas à la démarche du dossier")
    if groupe.number == dossier.groupe:
        raise Rejected(f"Le dossier est déjà avec le groupe instructeur « {groupe.label} »")
    store.move_to_groupe(dossier.number, groupe.number)
    return {"dossier": _dossier_view(context, dossier)}


@mutation
def dossierEnvoyerMessage(context, input):
    store = context["store"]
    dossier = _load_dossier(context, input["dossierId"])
    instructeur = _check_instructeur(context, dossier, input["instructeurId"])
    if not input["body"].strip():
        raise Rejected("Le message ne peut pas être vide")
    correction = input.get("correction")
    if correction and dossier.state == "en_instruction":
        store.set_state(dossier.number, "en_construction", email=instructeur.email)
    message = store.add_message(dossier.number, instructeur.email, input["body"], correction)
    return {"message": {"id": message.id, "email": message.email, "body": message.body, "createdAt": message.created_at,
                        "discardedAt": None, "attachments": [],
                        "correction": {"reason": correction, "dateResolution": None} if correction else None}}


@mutation
def dossierPasserEnInstruction(context, input):
    dossier = _load_dossier(context, input["dossierId"])
    instructeur = _check_instructeur(context, dossier, input["instructeurId"])
    if dossier.state != "en_construction":
        raise Rejected(f"Le dossier est déjà {STATE_WORDS[dossier.state]}")
    context["store"].set_state(dossier.number, "en_instruction", email=instructeur.email)
    return {"dossier": _dossier_view(context, dossier)}


@mutation
def dossierModifierAnnotations(context, input):
    store = context["store"]
    dossier = _load_dossier(context, input["dossierId"])
    _check_instructeur(context, dossier, input["instructeurId"])
    revision = store.demarches[dossier.demarche].revisions[dossier.revision]
    definitions = {d.id: d for d in revision.annotations}
    saved, errors = [], []
    for annotation in input["annotations"]:
        definition = definitions.get(annotation["id"])
        if definition is None:
            errors.append(f"{annotation['id']} n’existe pas")
            continue
        try:
            value = _annotation_value(definition, annotation["value"], dossier.annotations.get(definition.key))
        except Rejected as rejected:
            errors.extend(rejected.messages)
            continue
        dossier.annotations[definition.key] = value
        saved.append(definition)
    if saved:
        dossier.annotations_updated_at = store.bump(dossier)
        store.emit("dossier_modifie", dossier)
    ctx = RenderContext(context["base_url"])
    champs = [render_champ(d, dossier.annotations.get(d.key), dossier.annotations_updated_at, dossier.number, ctx)
              for d in saved]
    return {
        "annotations": champs,
        "errors": [{"message": m} for m in errors] or None,
        "_applied": bool(saved),
    }


def _annotation_value(definition, value_input: dict, current):
    given = {k: v for k, v in value_input.items() if v is not None}
    expected = VALUE_KEYS.get(definition.type)
    if len(given) != 1 or expected not in given:
        raise Rejected(f"La valeur de l’annotation « {definition.label} » n’est pas de type attendu")
    value = given[expected]
    if definition.type == "drop_down_list" and definition.options and value not in definition.options:
        raise Rejected(f"« {value} » n’est pas une option de l’annotation « {definition.label} »")
    if definition.type == "date":
        return date.fromisoformat(value).isoformat()
    if definition.type == "email" and not EMAIL.match(value):
        raise Rejected(f"L’annotation « {definition.label} » n’est pas une adresse électronique valide")
    if definition.type == "repetition":
        rows = list(current or [])
        rows.extend((f"{len(rows) + i + 1}", {}) for i in range(value))
        return rows
    return value


def _profiles(store, profiles) -> tuple[list, list[str]]:
    """Instructeurs named by id or e-mail; unknown e-mails are created (invited)."""
    found, warnings = [], []
    for profile in profiles or []:
        if profile.get("id"):
            instructeur = store.instructeurs.get(parse_gid(profile["id"], "Instructeur") or -1)
            if instructeur is None:
                warnings.append(f"{profile['id']} n’est pas un instructeur")
                continue
        elif profile.get("email") and EMAIL.match(profile["email"]):
            instructeur = store.instructeur_by_email(profile["email"].strip().lower())
        else:
            warnings.append(f"{profile.get('email')} n’est pas une adresse électronique valide")
            continue
        found.append(instructeur)
    return found, warnings


@mutation
def groupeInstructeurCreer(context, input):
    store = context["store"]
    wanted = input["demarche"]
    number = wanted.get("number") if wanted.get("number") is not None else parse_gid(wanted.get("id") or "", "Procedure")
    demarche = store.demarches.get(number or -1)
    if demarche is None:
        raise not_found("Demarche")
    if not context["token"].can_read(demarche.number):
        raise hidden("Demarche")
    attributes = input["groupeInstructeur"]
    label = attributes["label"].strip()
    if any(g.label == label for g in demarche.groupes):
        raise Rejected(f"Le libellé « {label} » est déjà utilisé par un autre groupe de la démarche")
    instructeurs, warnings = _profiles(store, attributes.get("instructeurs"))
    groupe = store.add_groupe(demarche.number, label, closed=bool(attributes.get("closed")))
    for instructeur in instructeurs:
        if not groupe.has_instructeur(instructeur.number):
            groupe.instructeurs.append(instructeur)
    return {"groupeInstructeur": groupe_view(groupe), "warnings": [{"message": w} for w in warnings]}


@mutation
def groupeInstructeurAjouterInstructeurs(context, input):
    store = context["store"]
    found = store.find_groupe(parse_gid(input["groupeInstructeurId"], "GroupeInstructeur") or -1)
    if found is None:
        raise not_found("GroupeInstructeur")
    demarche, groupe = found
    if not context["token"].can_read(demarche.number):
        raise hidden("GroupeInstructeur")
    instructeurs, warnings = _profiles(store, input["instructeurs"])
    for instructeur in instructeurs:
        if not groupe.has_instructeur(instructeur.number):
            groupe.instructeurs.append(instructeur)
    return {"groupeInstructeur": groupe_view(groupe), "warnings": [{"message": w} for w in warnings]}

