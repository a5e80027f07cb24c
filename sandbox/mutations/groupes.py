"""Labels on a dossier, its groupe instructeur, and the groupes and their instructeurs."""

from __future__ import annotations

import re

from sandbox.ids import demarche_number, parse_gid
from sandbox.mutations.base import Rejected, dossier_view, mutation
from sandbox.views import groupe_view, hidden, label_view

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _label(context, load, dossier, label_id):
    demarche = context["store"].demarches[dossier.demarche]
    number = parse_gid(label_id, "Label")
    label = demarche.label(number) if number else None
    if label is None:
        if number and any(d.label(number) for d in context["store"].demarches.values()):
            raise Rejected("Le label n’appartient pas à la démarche du dossier")
        raise load.missing()
    return label


@mutation("DossierAjouterLabelPayload")
def dossierAjouterLabel(context, input, load):
    dossier = load.dossier(input["dossierId"])
    label = _label(context, load, dossier, input["labelId"])
    if label.number in dossier.labels:
        raise Rejected("Ce label est déjà associé au dossier")
    context["store"].add_label(dossier.number, label.number)
    return {"dossier": dossier_view(context, dossier), "label": label_view(label)}


@mutation("DossierSupprimerLabelPayload")
def dossierSupprimerLabel(context, input, load):
    dossier = load.dossier(input["dossierId"])
    label = _label(context, load, dossier, input["labelId"])
    if label.number not in dossier.labels:
        raise Rejected("Ce label n’est pas associé au dossier")
    context["store"].remove_label(dossier.number, label.number)
    return {"dossier": dossier_view(context, dossier), "label": label_view(label)}


@mutation("DossierChangerGroupeInstructeurPayload")
def dossierChangerGroupeInstructeur(context, input, load):
    dossier = load.dossier(input["dossierId"])
    demarche, groupe = load.groupe(input["groupeInstructeurId"])
    if demarche.number != dossier.demarche:
        raise Rejected("Le groupe instructeur n’appartient pas à la démarche du dossier")
    if groupe.number == dossier.groupe:
        raise Rejected(f"Le dossier est déjà avec le groupe instructeur « {groupe.label} »")
    context["store"].move_to_groupe(dossier.number, groupe.number)
    return {"dossier": dossier_view(context, dossier)}


def _profiles(store, profiles, create: bool = True) -> tuple[list, list[str]]:
    """Instructeurs named by id or e-mail; unknown e-mails are invited (created) when `create`."""
    found, warnings = [], []
    for profile in profiles or []:
        if profile.get("id"):
            instructeur = store.instructeurs.get(parse_gid(profile["id"], "Instructeur") or -1)
            if instructeur is None:
                warnings.append(f"{profile['id']} n’est pas un instructeur")
                continue
        elif profile.get("email") and EMAIL.match(profile["email"]):
            instructeur = store.instructeur_by_email(profile["email"].strip().lower(), create=create)
            if instructeur is None:
                continue
        else:
            warnings.append(f"{profile.get('email')} n’est pas une adresse électronique valide")
            continue
        found.append(instructeur)
    return found, warnings


@mutation("GroupeInstructeurCreerPayload")
def groupeInstructeurCreer(context, input, load):
    store = context["store"]
    demarche = store.demarches.get(demarche_number(input["demarche"]) or -1)
    if demarche is None:
        raise load.missing()
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


@mutation("GroupeInstructeurModifierPayload")
def groupeInstructeurModifier(context, input, load):
    demarche, groupe = load.groupe(input["groupeInstructeurId"])
    label = input.get("label")
    if label is not None:
        label = label.strip()
        if not label:
            raise Rejected("Le libellé doit être rempli")
        if any(g.label == label and g is not groupe for g in demarche.groupes):
            raise Rejected(f"Le libellé « {label} » est déjà utilisé par un autre groupe de la démarche")
    if input.get("closed") and groupe is demarche.groupes[0]:
        raise Rejected("Le groupe par défaut ne peut pas être désactivé")
    with context["store"].lock:
        if label is not None:
            groupe.label = label
        if input.get("closed") is not None:
            groupe.closed = input["closed"]
    return {"groupeInstructeur": groupe_view(groupe)}


@mutation("GroupeInstructeurAjouterInstructeursPayload")
def groupeInstructeurAjouterInstructeurs(context, input, load):
    _, groupe = load.groupe(input["groupeInstructeurId"])
    instructeurs, warnings = _profiles(context["store"], input["instructeurs"])
    for instructeur in instructeurs:
        if not groupe.has_instructeur(instructeur.number):
            groupe.instructeurs.append(instructeur)
    return {"groupeInstructeur": groupe_view(groupe), "warnings": [{"message": w} for w in warnings]}


@mutation("GroupeInstructeurSupprimerInstructeursPayload")
def groupeInstructeurSupprimerInstructeurs(context, input, load):
    _, groupe = load.groupe(input["groupeInstructeurId"])
    instructeurs, _ = _profiles(context["store"], input["instructeurs"], create=False)
    for instructeur in instructeurs:
        context["store"].remove_instructeur(groupe.number, instructeur.number)
    return {"groupeInstructeur": groupe_view(groupe)}
