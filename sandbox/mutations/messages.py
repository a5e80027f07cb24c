"""Messages to the usager, correction requests included, and their deletion."""

from __future__ import annotations

from sandbox.mutations.base import Rejected, check_instructeur, checked_blob, dossier_view, mutation


def message_view(context, dossier, message) -> dict:
    """The message as the dossier's `messages` shows it."""
    return dossier_view(context, dossier)._message(message)


@mutation("DossierEnvoyerMessagePayload")
def dossierEnvoyerMessage(context, input, load):
    attachment = checked_blob(context, input.get("attachment"))
    dossier = load.dossier(input["dossierId"])
    instructeur = load.profile(input["instructeurId"])
    check_instructeur(context, dossier, instructeur)
    if not input["body"].strip() and attachment is None:
        raise Rejected("Votre message ne peut être vide")
    message = context["store"].add_message(
        dossier.number,
        instructeur.email,
        input["body"],
        input.get("correction"),
        attachments=(attachment,) if attachment else (),
    )
    return {"message": message_view(context, dossier, message)}


@mutation("DossierSupprimerMessagePayload")
def dossierSupprimerMessage(context, input, load):
    dossier, message = load.message(input["messageId"])
    instructeur = load.profile(input["instructeurId"])
    # Only an instructeur's own message, not yet deleted.
    if instructeur is None or message.email != instructeur.email or message.discarded_at is not None:
        raise Rejected("Le message ne peut pas être supprimé")
    check_instructeur(context, dossier, instructeur)
    context["store"].discard_message(dossier.number, message)
    return {"message": message_view(context, dossier, message)}
