"""Objects the GraphQL executor reads: thin views over store records.

graphql-core's default resolver reads attributes and keys and calls what it finds
with (info, **args), so each view exposes the DS field names directly and
computes a field only when a query asks for it.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from graphql import GraphQLError

from sandbox.champs import (
    UNKNOWN_CHAMP_STABLE_ID,
    Etablissement,
    RenderContext,
    etablissement_view,
    file_checksum,
    render_champs,
)
from sandbox.demarche import ADMINISTRATEUR_EMAIL, Demarche, Groupe, Label, Revision
from sandbox.descriptors import revision_view
from sandbox.files import StoredFile, dossier_export, file_view
from sandbox.ids import gid
from sandbox.pagination import encode_cursor, paginate
from sandbox.store import DossierRecord, Store

# Placeholder sizes of the files DS makes itself (an attestation, a form's model file).
MADE_FILE_SIZE = 48_213


def not_found(type_name: str) -> GraphQLError:
    return GraphQLError(f"{type_name} not found", extensions={"code": "not_found"})


def hidden(type_name: str) -> GraphQLError:
    return GraphQLError(
        f"An object of type {type_name} was hidden due to permissions", extensions={"code": "unauthorized"}
    )


def timeout_error(field: str) -> GraphQLError:
    return GraphQLError(f"Timeout on {field}", extensions={"code": "timeout"})


# Type of a node error (sandbox.faults) -> the key of the champ object holding it.
NODE_ERROR_KEYS = {
    "Commune": "commune",
    "Departement": "departement",
    "Address": "address",
    "Pays": "pays",
    "PersonneMorale": "etablissement",
    "File": "files",
}


def break_field(champs: list[dict], spec: str) -> list[dict]:
    """Null a non-null field in the first champ that has it, as DS's data bugs do (#12696).

    The executor then reports "Cannot return null for non-nullable field
    Type.field" and nulls the dossier's node; an unknown spec is DS's internal
    error on the dossier (#11942)."""
    type_name, _, field_name = spec.partition(".")
    key = NODE_ERROR_KEYS.get(type_name)
    if key is None or not field_name:
        raise GraphQLError("Internal Server Error", extensions={"code": "internal_server_error"})

    def broken(champ: dict) -> dict | None:
        value = champ.get(key)
        if key == "files" and value:
            return {**champ, "files": [{**value[0], field_name: None}, *value[1:]]}
        if isinstance(value, dict):
            return {**champ, key: {**value, field_name: None}}
        for index, row in enumerate(champ.get("rows") or ()):
            for position, child in enumerate(row["champs"]):
                changed = broken(child)
                if changed is not None:
                    row = {**row, "champs": [*row["champs"][:position], changed, *row["champs"][position + 1 :]]}
                    return {**champ, "rows": [*champ["rows"][:index], row, *champ["rows"][index + 1 :]]}
        return None

    for position, champ in enumerate(champs):
        changed = broken(champ)
        if changed is not None:
            return [*champs[:position], changed, *champs[position + 1 :]]
    return champs


def now_of(context: dict) -> datetime:
    return context.setdefault("now", datetime.now(UTC))


def template_files(context: dict):
    """A pièce justificative's model file, as a File of the démarche."""

    def view(definition):
        stored = StoredFile(definition.file_template, _content_type(definition.file_template), MADE_FILE_SIZE)
        return file_view(
            stored,
            key=f"template/{definition.stable_id}",
            checksum="",
            created_at=now_of(context),
            base_url=context["base_url"],
            now=now_of(context),
        )

    return view


def _content_type(filename: str) -> str:
    if filename.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "application/pdf" if filename.endswith(".pdf") else "application/octet-stream"


def revision_of(revision: Revision, context: dict) -> dict:
    return revision_view(revision, file_template=template_files(context))


def collation_key(text: str) -> str:
    """Text as PostgreSQL's usual (en_US.UTF-8) collation orders it: accents and case come last."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold() + "\0" + text


def profile(type_name: str, number: int, email: str) -> dict:
    return {"id": gid(type_name, number), "email": email}


def groupe_view(groupe: Groupe) -> dict:
    return {
        "id": groupe.id,
        "number": groupe.number,
        "label": groupe.label,
        "closed": groupe.closed,
        "instructeurs": [profile("Instructeur", i.number, i.email) for i in groupe.instructeurs],
    }


def label_view(label: Label) -> dict:
    return {"id": label.id, "name": label.name, "color": label.color}


def service_view(demarche: Demarche) -> dict | None:
    service = demarche.service
    if service is None:
        return None
    return {
        "id": service.id,
        "nom": service.nom,
        "organisme": service.organisme,
        "typeOrganisme": service.type_organisme,
        "siret": service.siret,
    }


def can_read(context: dict, demarche: Demarche, opendata: bool = False) -> bool:
    """DS's authorized_demarche?: the token's démarches, or any open-data one where DS allows it."""
    return (opendata and demarche.opendata) or context["token"].can_read(demarche.number)


# --- démarches ------------------------------------------------------------------------------------------


def demarche_descriptor(demarche: Demarche, revision: Revision, context: dict) -> dict:
    """DemarcheDescriptor: the démarche as one of its revisions describes it (a dossier's, or the active one)."""
    base_url = context["base_url"]
    url = f"{base_url}/commencer/{demarche.path}" if demarche.path else None
    return {
        "id": demarche.id,
        "number": demarche.number,
        "title": demarche.title,
        "description": demarche.description,
        "state": demarche.state,
        "declarative": None,
        "dateCreation": demarche.created_at,
        "datePublication": demarche.published_at,
        "dateDerniereModification": demarche.updated_at or demarche.created_at,
        "dateDepublication": None,
        "dateFermeture": None,
        "dureeConservationDossiers": demarche.duree_conservation,
        "opendata": demarche.opendata,
        "tags": [],
        "zones": [],
        "service": service_view(demarche),
        "revision": lambda info, **_: revision_of(revision, context),
        "logo": None,
        "notice": None,
        "deliberation": None,
        "demarcheURL": url,
        "demarcheUrl": url,
        "siteWebURL": None,
        "siteWebUrl": None,
        "dpoURL": None,
        "dpoUrl": None,
        "noticeURL": None,
        "noticeUrl": None,
        "cadreJuridiqueURL": None,
        "cadreJuridiqueUrl": None,
    }


class DossierLists:
    """The three dossier connections of a démarche, or of one of its groupes."""

    def __init__(self, demarche: Demarche, store: Store, context: dict, groupe: int | None = None):
        self._demarche, self._store, self._context, self._groupe = demarche, store, context, groupe

    def dossiers(
        self,
        info,
        first=None,
        last=None,
        after=None,
        before=None,
        createdSince=None,
        updatedSince=None,
        state=None,
        archived=None,
        revision=None,
        minRevision=None,
        maxRevision=None,
        order="ASC",
    ):
        by_updated = updatedSince is not None
        accept = self._dossier_filter(state, archived, revision, minRevision, maxRevision)
        page = paginate(
            self._store.ordered(self._demarche.number, by_updated),
            first=first,
            last=last,
            after=after,
            before=before,
            since=updatedSince if by_updated else createdSince,
            accept=accept,
            order=order,
        )
        nodes = [DossierView(self._store.dossiers[number], self._store, self._context) for _, number in page.keys]
        if self._context["faults"].dossiers_timeout(page.limit):
            nodes = self._cut_by_timeout(nodes)
        connection = _connection(page, nodes)
        if self._context["faults"].stuck_cursor and after is not None:
            connection["pageInfo"] = {**connection["pageInfo"], "endCursor": after, "hasNextPage": True}
        return connection

    def _cut_by_timeout(self, nodes: list) -> list:
        """Like graphql-ruby's timeout: nodes not resolved in time are null, with one error."""
        error = timeout_error("Demarche.dossiers")
        cut = len(nodes) // 2
        if cut == len(nodes):
            self._context["extra_errors"].append(error)
            return nodes
        # The executor turns an Exception list item into a located error and a null node.
        return nodes[:cut] + [error] + [None] * (len(nodes) - cut - 1)

    def _dossier_filter(self, state, archived, revision, min_revision, max_revision):
        revisions = self._demarche.revisions
        allowed = None
        if revision is not None:
            allowed = {i for i, r in enumerate(revisions) if r.id == revision}
        elif min_revision is not None or max_revision is not None:
            low = self._demarche.revision_by_id(min_revision) if min_revision else None
            high = self._demarche.revision_by_id(max_revision) if max_revision else None
            allowed = {
                i
                for i, r in enumerate(revisions)
                if (low is None or r.created_at >= low.created_at) and (high is None or r.created_at <= high.created_at)
            }
        groupe = self._groupe
        if state is None and archived is None and allowed is None and groupe is None:
            return None
        dossiers = self._store.dossiers

        def accept(number: int) -> bool:
            dossier = dossiers[number]
            return (
                (state is None or dossier.state == state)
                and (archived is None or dossier.archived == archived)
                and (allowed is None or dossier.revision in allowed)
                and (groupe is None or dossier.groupe == groupe)
            )

        return accept

    def deletedDossiers(self, info, first=None, last=None, after=None, before=None, deletedSince=None, order="ASC"):
        entries = [e for e in self._store.deleted[self._demarche.number] if self._groupe in (None, e.groupe)]
        by_key = {(e.deleted_at, e.number): e for e in entries}
        page = paginate(
            sorted(by_key), first=first, last=last, after=after, before=before, since=deletedSince, order=order
        )
        nodes = [
            {
                "id": gid("DeletedDossier", e.number),
                "number": e.dossier_number,
                "state": e.state,
                "reason": e.reason,
                "dateSupression": e.deleted_at,
            }
            for e in (by_key[k] for k in page.keys)
        ]
        return _connection(page, nodes)

    def pendingDeletedDossiers(
        self, info, first=None, last=None, after=None, before=None, deletedSince=None, order="ASC"
    ):
        dossiers = self._store.dossiers
        groupe = self._groupe
        page = paginate(
            self._store.trash_index(self._demarche.number),
            first=first,
            last=last,
            after=after,
            before=before,
            since=deletedSince,
            order=order,
            accept=None if groupe is None else lambda number: dossiers[number].groupe == groupe,
        )
        nodes = []
        for _, number in page.keys:
            dossier = dossiers[number]
            nodes.append(
                {
                    "id": gid("DeletedDossier", number),
                    "number": number,
                    "state": dossier.state,
                    "reason": dossier.hidden_reason,
                    "dateSupression": dossier.hidden_at,
                }
            )
        return _connection(page, nodes)


def _connection(page, nodes) -> dict:
    return {
        "nodes": nodes,
        "edges": [{"cursor": encode_cursor(*key), "node": node} for key, node in zip(page.keys, nodes, strict=False)],
        "pageInfo": page.page_info(),
    }


class DemarcheView(DossierLists):
    def __init__(self, demarche: Demarche, store: Store, context: dict):
        super().__init__(demarche, store, context)
        d = demarche
        self.id, self.number, self.title, self.state = d.id, d.number, d.title, d.state
        self.description, self.declarative = d.description, None
        self.dateCreation, self.datePublication = d.created_at, d.published_at
        self.dateDerniereModification = d.updated_at or d.created_at
        self.dateDepublication = self.dateFermeture = None
        self.chorusConfiguration = {
            "centreDeCout": None,
            "domaineFonctionnel": None,
            "referentielDeProgrammation": None,
        }
        self.service = service_view(d)
        self.administrateurs = [profile("Administrateur", context["token"].administrateur, ADMINISTRATEUR_EMAIL)]

    @property
    def activeRevision(self):
        return revision_of(self._demarche.active_revision, self._context)

    @property
    def draftRevision(self):
        return revision_of(self._demarche.draft, self._context)

    @property
    def publishedRevision(self):
        published = self._demarche.published if self._demarche.state != "brouillon" else None
        return revision_of(published, self._context) if published else None

    @property
    def revisions(self):
        """Every revision, the draft included, oldest first."""
        return [revision_of(r, self._context) for r in (*self._demarche.revisions, self._demarche.draft)]

    @property
    def champDescriptors(self):
        return self.activeRevision["champDescriptors"]

    @property
    def annotationDescriptors(self):
        return self.activeRevision["annotationDescriptors"]

    @property
    def labels(self):
        return [label_view(label) for label in self._demarche.labels]

    def groupeInstructeurs(self, info, closed=None):
        groupes = sorted(self._demarche.groupes, key=lambda g: collation_key(g.label))  # DS orders them by label
        if closed is not None:
            # DS (Jan 2026) inverts this filter: closed: true returns the active groupes (docs/ds-groupes.md).
            groupes = [g for g in groupes if g.closed != closed]
        return [groupe_view(g) for g in groupes]


class GroupeWithDossiersView(DossierLists):
    def __init__(self, demarche: Demarche, groupe: Groupe, store: Store, context: dict):
        super().__init__(demarche, store, context, groupe=groupe.number)
        for key, value in groupe_view(groupe).items():
            setattr(self, key, value)


# --- dossiers -------------------------------------------------------------------------------------------


class DossierView:
    def __init__(self, record: DossierRecord, store: Store, context: dict):
        self._record, self._store, self._context = record, store, context
        self._demarche = store.demarches[record.demarche]
        r = record
        self.id, self.number, self.state, self.archived, self.prefilled = r.id, r.number, r.state, r.archived, False
        self.dateDepot, self.datePassageEnConstruction = r.depose_at, r.en_construction_at
        self.datePassageEnInstruction, self.dateTraitement = r.en_instruction_at, r.processed_at
        self.dateDerniereModification = r.updated_at
        self.dateDerniereModificationChamps = r.champs_updated_at or r.depose_at
        self.dateDerniereModificationAnnotations = r.annotations_updated_at or r.depose_at
        self.dateSuppressionParUsager = r.hidden_at if r.hidden_by == "usager" else None
        self.dateSuppressionParAdministration = r.hidden_at if r.hidden_by == "administration" else None
        self.datePrevisionnelleDecisionSVASVR = self.dateTraitementSVASVR = None
        self.motivation = r.motivation
        self.connectionUsager = "deleted" if r.usager_deleted else r.connection
        self.deposeParUnTiers = False
        self.prenomMandataire = self.nomMandataire = None

    @property
    def _revision(self) -> Revision:
        return self._demarche.revisions[self._record.revision]

    @property
    def _now(self) -> datetime:
        return now_of(self._context)

    @property
    def dateExpiration(self):
        """When DS will delete the dossier: none while it is being instructed."""
        r = self._record
        if r.state == "en_instruction":
            return None
        start = r.processed_at if r.processed_at else r.en_construction_at
        return _add_months(start, self._demarche.duree_conservation)

    @property
    def dateDerniereCorrectionEnAttente(self):
        pending = [m.created_at for m in self._record.messages if m.correction and m.resolved_at is None]
        return pending[-1] if pending else None

    @property
    def usager(self):
        if self._record.usager_deleted:
            return {"id": "<deleted>", "email": self._record.usager_email}
        return profile("User", self._record.number, self._record.usager_email)

    @property
    def instructeurs(self):
        """The instructeurs who follow the dossier."""
        found = (self._store.instructeurs.get(n) for n in self._record.followers)
        return [profile("Instructeur", i.number, i.email) for i in found if i]

    @property
    def demandeur(self):
        values = self._record.values
        if self._demarche.for_individual:
            return {
                "__typename": "PersonnePhysique",
                "id": gid("Individual", self._record.number),
                "civilite": values.get("civilite"),
                "nom": values.get("nom") or "",
                "prenom": values.get("prenom") or "",
                "dateDeNaissance": None,
                "email": None,
            }
        etablissement = next((v for v in values.values() if isinstance(v, Etablissement)), None)
        if etablissement is not None:
            return etablissement_view(etablissement)
        return {"__typename": "PersonneMoraleIncomplete", "id": gid("Etablissement", 0), "siret": ""}

    @property
    def groupeInstructeur(self):
        groupe = self._demarche.groupe(self._record.groupe) or self._demarche.groupes[0]
        return groupe_view(groupe)

    @property
    def demarche(self):
        return demarche_descriptor(self._demarche, self._revision, self._context)

    @property
    def revision(self):
        return revision_of(self._revision, self._context)

    @property
    def traitements(self):
        revisions = self._demarche.revisions
        return [
            {
                "id": gid("Traitement", self._record.number * 100 + i),
                "event": t.event,
                "state": t.state,
                "dateTraitement": t.at,
                "emailAgentTraitant": t.email,
                "motivation": t.motivation,
                "revision": revision_of(revisions[t.revision], self._context)
                if t.revision is not None and t.revision < len(revisions)
                else None,
            }
            for i, t in enumerate(self._record.traitements)
        ]

    @property
    def labels(self):
        labels = (self._demarche.label(n) for n in self._record.labels)
        return [label_view(label) for label in labels if label]

    def _file(self, stored: StoredFile, key: str, created_at: datetime) -> dict:
        return file_view(
            stored,
            key=key,
            checksum=file_checksum(self._record.number, 0, 0, stored),
            created_at=created_at,
            base_url=self._context["base_url"],
            now=self._now,
        )

    @property
    def motivationAttachment(self):
        stored = self._record.justificatif
        return self._file(stored, f"justificatif/{self._record.number}", self._record.processed_at) if stored else None

    @property
    def attestation(self):
        if self._record.state != "accepte" or not self._demarche.attestation:
            return None
        stored = StoredFile(f"attestation-dossier-{self._record.number}.pdf", "application/pdf", MADE_FILE_SIZE)
        return self._file(stored, f"attestation/{self._record.number}", self._record.processed_at)

    @property
    def pdf(self):
        return dossier_export(self._context["base_url"], self._record.number, "pdf", self._now)

    @property
    def geojson(self):
        return dossier_export(self._context["base_url"], self._record.number, "geojson", self._now)

    def messages(self, info, id=None):
        return [self._message(m) for m in self._record.messages if id is None or m.id == id]

    def _message(self, m) -> dict:
        files = [self._file(f, f"message/{m.number}/{i}", m.created_at) for i, f in enumerate(m.attachments)]
        return {
            "id": m.id,
            "email": m.email,
            "body": m.body,
            "createdAt": m.created_at,
            "discardedAt": m.discarded_at,
            "attachments": files,
            "attachment": files[0] if files else None,
            "correction": {"reason": m.correction, "dateResolution": m.resolved_at} if m.correction else None,
        }

    def avis(self, info, id=None):
        out = []
        for a in self._record.avis:
            avis_id = gid("Avis", a.number)
            if id is not None and id != avis_id:
                continue
            claimant = self._store.instructeur_by_email(a.claimant_email, create=False)
            files = [
                self._file(f, f"avis/{a.number}/{i}", a.answered_at or a.asked_at) for i, f in enumerate(a.attachments)
            ]
            claimant_view = profile("Instructeur", claimant.number if claimant else 0, a.claimant_email)
            out.append(
                {
                    "id": avis_id,
                    "question": a.question,
                    "reponse": a.answer,
                    "questionLabel": a.question_label,
                    "questionAnswer": a.question_answer,
                    "dateQuestion": a.asked_at,
                    "dateReponse": a.answered_at,
                    "claimant": claimant_view,
                    "instructeur": claimant_view,
                    "expert": profile("Expert", a.number, a.expert_email),
                    "attachments": files,
                    "attachment": files[0] if files else None,
                }
            )
        return out

    def champs(self, info, id=None):
        record = self._record
        skip, extra = (), ()
        if record.anomaly and record.anomaly[0] == "missing_champ":
            skip = (record.anomaly[1],)
        if record.anomaly and record.anomaly[0] == "extra_champ":
            extra = ((UNKNOWN_CHAMP_STABLE_ID, "Champ ajouté hors procédure", "valeur inattendue"),)
        champs = render_champs(
            self._revision.champs,
            record.values,
            self.dateDerniereModificationChamps,
            record.number,
            self._render_context(),
            skip,
            extra,
        )
        broken = self._context["faults"].node_error(record.number)
        if broken:
            champs = break_field(champs, broken)
        return [c for c in champs if id is None or c["id"] == id]

    def annotations(self, info, id=None):
        champs = render_champs(
            self._revision.annotations,
            self._record.annotations,
            self.dateDerniereModificationAnnotations,
            self._record.number,
            self._render_context(),
        )
        return [c for c in champs if id is None or c["id"] == id]

    def _render_context(self) -> RenderContext:
        return RenderContext(self._context["base_url"], self._now, self._linked_dossier)

    def _linked_dossier(self, number: int):
        """A linked dossier goes through the same visibility and rights as `Query.dossier`."""
        record = self._store.dossiers.get(number)
        if record is None or record.hidden_at is not None:
            return None
        if not self._context["token"].can_read(record.demarche):
            return hidden("Dossier")
        return DossierView(record, self._store, self._context)


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, 28))
