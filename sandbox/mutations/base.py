"""What every sandbox mutation shares with DS's (docs/ds-mutations.md): the order of its checks and
its errors.

In DS's order: a read-only token is refused in the payload; a signed blob the mutation names is
checked; the objects named by id are loaded (an unknown id is a top-level `not_found` naming the
payload type, an object of a démarche the token may not read is hidden); the mutation's own
rules are checked (errors as data); then it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sandbox.ids import parse_gid
from sandbox.views import DossierView, hidden, not_found

READ_ONLY = "Le jeton utilisé est configuré seulement en lecture"
NO_ACCESS = "L’instructeur n’a pas les droits d’accès à ce dossier"
# DS's names of the states, as its "Le dossier est déjà …" errors write them.
STATE_WORDS = {
    "en_instruction": "en instruction",
    "accepte": "accepté",
    "refuse": "refusé",
    "sans_suite": "classé sans suite",
    "en_construction": "en construction",
}

RESOLVERS: dict[str, Callable] = {}


class Rejected(Exception):
    """The mutation is refused; its messages go to the payload's `errors`."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


class Loading:
    """Loads the objects a mutation names by id, as graphql-ruby's `loads:` does for DS."""

    def __init__(self, context: dict, payload_type: str):
        self.context, self.store, self.payload_type = context, context["store"], payload_type

    def missing(self):
        # DS's rescue of RecordNotFound names the type of the field being resolved: the payload.
        return not_found(self.payload_type)

    def dossier(self, dossier_id: str):
        store = self.store
        dossier = store.dossiers.get(parse_gid(dossier_id, "Dossier") or -1)
        if dossier is None or dossier.hidden_at is not None:
            raise self.missing()
        if not self.context["token"].can_read(dossier.demarche):
            raise hidden("Dossier")
        return dossier

    def profile(self, profile_id: str):
        """An Instructeur, or None for another kind of profile (DS loads it, then refuses it)."""
        for kind in ("Instructeur", "User", "Expert", "Administrateur"):
            number = parse_gid(profile_id, kind)
            if number is not None:
                if kind != "Instructeur":
                    return None
                instructeur = self.store.instructeurs.get(number)
                if instructeur is None:
                    raise self.missing()
                return instructeur
        raise self.missing()

    def message(self, message_id: str):
        number = parse_gid(message_id, "Commentaire")
        for dossier in self.store.dossiers.values():
            for message in dossier.messages:
                if message.number == number:
                    if not self.context["token"].can_read(dossier.demarche):
                        raise hidden("Message")
                    return dossier, message
        raise self.missing()

    def groupe(self, groupe_id: str):
        found = self.store.find_groupe(parse_gid(groupe_id, "GroupeInstructeur") or -1)
        if found is None:
            raise self.missing()
        demarche, groupe = found
        if not self.context["token"].can_read(demarche.number):
            raise hidden("GroupeInstructeur")
        return demarche, groupe


def check_instructeur(context: dict, dossier, instructeur) -> None:
    """DS's dossier_authorized_for?: an instructeur of the dossier's current groupe."""
    if instructeur is None:
        raise Rejected(NO_ACCESS)
    groupe = context["store"].demarches[dossier.demarche].groupe(dossier.groupe)
    if groupe is None or not groupe.has_instructeur(instructeur.number):
        raise Rejected(NO_ACCESS)


def checked_blob(context: dict, signed_id: str | None):
    """The stored file of a signed blob id the mutation names, or DS's error about it."""
    if not signed_id:
        return None
    blob, error = context["store"].blobs.check(signed_id)
    if error:
        raise Rejected(error)
    return blob.stored()


def dossier_view(context: dict, dossier) -> DossierView:
    return DossierView(dossier, context["store"], context)


def mutation(payload_type: str):
    """Register a resolver of the mutation named like the function, whose payload type DS names in its
    not-found errors."""

    def register(function):
        name = function.__name__

        def resolve(root, info, input):
            context = info.context
            payload = {"clientMutationId": input.get("clientMutationId"), "errors": None}
            if not context["token"].write:
                return payload | {"errors": [{"message": READ_ONLY}]}
            store = context["store"]
            with store.lock:
                try:
                    result = function(context, input, Loading(context, payload_type))
                except Rejected as rejected:
                    return payload | {"errors": [{"message": m} for m in rejected.messages]}
                if result.pop("_applied", True):
                    store.mutation_log.append((name, dict(input)))
            return payload | result

        RESOLVERS[name] = resolve
        return function

    return register


def now_utc() -> datetime:
    return datetime.now(UTC)
