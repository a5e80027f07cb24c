"""A dossier's state, archiving and following, as DS's instructeurs change them through the API."""

from __future__ import annotations

from sandbox.mutations.base import STATE_WORDS, Rejected, check_instructeur, checked_blob, dossier_view, mutation
from sandbox.store import TERMINAL_STATES


def _already(dossier) -> Rejected:
    return Rejected(f"Le dossier est déjà {STATE_WORDS[dossier.state]}")


def _change(context, dossier, instructeur, state, motivation=None, justificatif=None) -> dict:
    context["store"].set_state(
        dossier.number, state, email=instructeur.email, motivation=motivation, justificatif=justificatif, notify=True
    )
    return {"dossier": dossier_view(context, dossier)}


def _can_terminer(context, dossier) -> bool:
    """No required private annotation left empty (DS's can_terminer?)."""
    revision = context["store"].demarches[dossier.demarche].revisions[dossier.revision]
    return all(dossier.annotations.get(d.key) not in (None, "", [], ()) for d in revision.annotations if d.required)


def _decide(context, input, load, state):
    justificatif = checked_blob(context, input.get("justificatif"))
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    # A dossier that may not be decided yet is answered with its state, as DS does.
    if dossier.state != "en_instruction" or not _can_terminer(context, dossier):
        raise _already(dossier)
    check_instructeur(context, dossier, instructeur)
    return _change(context, dossier, instructeur, state, input.get("motivation"), justificatif)


@mutation("DossierAccepterPayload")
def dossierAccepter(context, input, load):
    return _decide(context, input, load, "accepte")


@mutation("DossierRefuserPayload")
def dossierRefuser(context, input, load):
    return _decide(context, input, load, "refuse")


@mutation("DossierClasserSansSuitePayload")
def dossierClasserSansSuite(context, input, load):
    return _decide(context, input, load, "sans_suite")


@mutation("DossierPasserEnInstructionPayload")
def dossierPasserEnInstruction(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    if dossier.state != "en_construction":
        raise _already(dossier)
    check_instructeur(context, dossier, instructeur)
    return _change(context, dossier, instructeur, "en_instruction")


@mutation("DossierRepasserEnConstructionPayload")
def dossierRepasserEnConstruction(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    if dossier.state != "en_instruction":
        raise _already(dossier)
    check_instructeur(context, dossier, instructeur)
    return _change(context, dossier, instructeur, "en_construction")


@mutation("DossierRepasserEnInstructionPayload")
def dossierRepasserEnInstruction(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    if dossier.state not in TERMINAL_STATES or dossier.usager_deleted:
        raise _already(dossier)
    check_instructeur(context, dossier, instructeur)
    return _change(context, dossier, instructeur, "en_instruction")


@mutation("DossierArchiverPayload")
def dossierArchiver(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    if dossier.state not in TERMINAL_STATES:
        raise Rejected("Un dossier ne peut être déplacé dans « à archiver » qu’une fois le traitement terminé")
    check_instructeur(context, dossier, instructeur)
    context["store"].set_archived(dossier.number, True)
    return {"dossier": dossier_view(context, dossier)}


@mutation("DossierDesarchiverPayload")
def dossierDesarchiver(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    if not dossier.archived:
        raise Rejected("Un dossier non archivé ne peut pas être désarchivé")
    check_instructeur(context, dossier, instructeur)
    context["store"].set_archived(dossier.number, False)
    return {"dossier": dossier_view(context, dossier)}


@mutation("DossierBasculeSuiviPayload")
def dossierBasculeSuivi(context, input, load):
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    check_instructeur(context, dossier, instructeur)
    context["store"].follow(dossier.number, instructeur.number, input.get("follow", True))
    return {
        "dossier": dossier_view(context, dossier),
        "errors": None,
        "instructeur": {"id": instructeur.id, "email": instructeur.email},
    }
