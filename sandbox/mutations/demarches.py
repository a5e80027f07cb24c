"""A copy of a démarche, and the uploads a message or a decision joins."""

from __future__ import annotations

import json

from sandbox.ids import demarche_number
from sandbox.mutations.base import mutation
from sandbox.views import can_read, demarche_descriptor


@mutation("DemarcheClonerPayload")
def demarcheCloner(context, input, load):
    """A brouillon copy for the token's administrateur: same champs and ids, no service, no dossiers."""
    store = context["store"]
    number = demarche_number(input["demarche"])
    source = store.demarches.get(number or -1)
    if source is None or not can_read(context, source, opendata=True):
        return {"errors": [{"message": f'La démarche "{number}" ne peut pas être clonée.'}], "_applied": False}
    clone = store.clone_demarche(
        source.number,
        (input.get("title") or "").strip() or None,
        same_administrateur=context["token"].can_read(source.number),
    )
    return {"demarche": demarche_descriptor(clone, clone.draft, context)}


@mutation("CreateDirectUploadPayload")
def createDirectUpload(context, input, load):
    load.dossier(input["dossierId"])
    blob = context["store"].blobs.create(input["filename"], input["contentType"], input["byteSize"], input["checksum"])
    return {
        "directUpload": {
            "url": f"{context['base_url']}/rails/active_storage/disk/{context['store'].blobs.upload_token(blob)}",
            "headers": json.dumps({"Content-Type": blob.content_type, "Content-MD5": blob.checksum}),
            "blobId": str(blob.number),
            "signedBlobId": blob.signed_id,
        }
    }
