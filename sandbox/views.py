"""Objects the GraphQL executor reads: thin views over store records.

graphql-core's default resolver reads attributes and calls methods with
(info, **args), so each view exposes the DS field names directly and
computes a field only when a query asks for it.
"""
from __future__ import annotations

from graphql import GraphQLError

from sandbox.champs import UNKNOWN_CHAMP_STABLE_ID, Etablissement, RenderContext, etablissement_view, render_champs
from sandbox.demarche import Demarche, Groupe, Label, Revision
from sandbox.ids import gid
from sandbox.pagination import encode_cursor, paginate
from sandbox.reference_data import COUNTRIES, DEPARTEMENTS
from sandbox.store import DossierRecord, Store

DESCRIPTOR_TYPES = {
    "address": "Address", "checkbox": "Checkbox", "civilite": "Civilite", "communes": "Commune",
    "date": "Date", "datetime": "Datetime", "decimal_number": "DecimalNumber", "email": "Email",
    "integer_number": "IntegerNumber", "number": "Number", "phone": "Phone", "siret": "Siret",
    "text": "Text", "textarea": "Textarea", "yes_no": "YesNo", "explication": "Explication",
    "drop_down_list": "DropDownList", "pays": "Pays", "departements": "Departement",
    "header_section": "HeaderSection", "piece_justificative": "PieceJustificative", "repetition": "Repetition",
}


def not_found(type_name: str) -> GraphQLError:
    return GraphQLError(f"{type_name} not found", extensions={"code": "not_found"})


def hidden(type_name: str) -> GraphQLError:
    return GraphQLError(f"An object of type {type_name} was hidden due to permissions",
                        extensions={"code": "unauthorized"})


def timeout_error(field: str) -> GraphQLError:
    return GraphQLError(f"Timeout on {field}", extensions={"code": "timeout"})


# Type of a node error (sandbox.faults) -> the key of the champ object holding it.
NODE_ERROR_KEYS = {"Commune": "commune", "Departement": "departement", "Address": "address", "Pays": "pays",
                   "PersonneMorale": "etablissement", "File": "files"}


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
                    row = {**row, "champs": [*row["champs"][:position], changed, *row["champs"][position + 1:]]}
                    return {**champ, "rows": [*champ["rows"][:index], row, *champ["rows"][index + 1:]]}
        return None

    for position, champ in enumerate(champs):
        changed = broken(champ)
        if changed is not None:
            return [*champs[:position], changed, *champs[position + 1:]]
    return champs


def descriptor(definition) -> dict:
    type_name = DESCRIPTOR_TYPES.get(definition.type, "Text") + "ChampDescriptor"
    out = {
        "__typename": type_name,
        "id": definition.id,
        "label": definition.label,
        "description": definition.description,
        "required": definition.required,
        "type": definition.type if definition.type in DESCRIPTOR_TYPES else "text",
        "champDescriptors": [descriptor(child) for child in definition.champs] if definition.type == "repetition" else None,
        "level": 1,
        "otherOption": False,
        "fileTemplate": None,
        "options": list(definition.options),
    }
    if definition.type == "pays":
        out["options"] = [{"code": code, "name": name} for code, name in COUNTRIES.items()]
    if definition.type == "departements":
        out["options"] = [{"code": code, "name": name} for code, name in DEPARTEMENTS.items()]
    return out


def revision_view(revision: Revision) -> dict:
    return {
        "id": revision.id,
        "dateCreation": revision.created_at,
        "datePublication": revision.published_at,
        "champDescriptors": [descriptor(d) for d in revision.champs],
        "annotationDescriptors": [descriptor(d) for d in revision.annotations],
    }


def groupe_view(groupe: Groupe) -> dict:
    return {
        "id": groupe.id,
        "number": groupe.number,
        "label": groupe.label,
        "closed": groupe.closed,
        "instructeurs": [{"id": i.id, "email": i.email} for i in groupe.instructeurs],
    }


def label_view(label: Label) -> dict:
    return {"id": label.id, "name": label.name, "color": label.color}


class DemarcheView:
    def __init__(self, demarche: Demarche, store: Store, context: dict):
        self._demarche, self._store, self._context = demarche, store, context
        self.id, self.number, self.title, self.state = demarche.id, demarche.number, demarche.title, demarche.state

    @property
    def activeRevision(self):
        return revision_view(self._demarche.active_revision)

    draftRevision = publishedRevision = activeRevision

    @property
    def revisions(self):
        return [revision_view(r) for r in self._demarche.revisions]

    @property
    def labels(self):
        return [label_view(label) for label in self._demarche.labels]

    def groupeInstructeurs(self, info, closed=None):
        groupes = self._demarche.groupes
        if closed is not None:
            # DS (Jan 2026) inverts this filter: closed: true returns the active groupes (NOTES §8).
            groupes = [g for g in groupes if g.closed != closed]
        return [groupe_view(g) for g in groupes]

    def dossiers(self, info, first=None, last=None, after=None, before=None, createdSince=None, updatedSince=None,
                 state=None, archived=None, revision=None, minRevision=None, maxRevision=None, order=None):
        by_updated = updatedSince is not None
        accept = self._dossier_filter(state, archived, revision, minRevision, maxRevision)
        page = paginate(self._store.ordered(self.number, by_updated), first=first, last=last, after=after,
                        before=before, since=updatedSince if by_updated else createdSince, accept=accept, order=order)
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
                i for i, r in enumerate(revisions)
                if (low is None or r.created_at >= low.created_at) and (high is None or r.created_at <= high.created_at)
            }
        if state is None and archived is None and allowed is None:
            return None
        dossiers = self._store.dossiers

        def accept(number: int) -> bool:
            dossier = dossiers[number]
            return ((state is None or dossier.state == state)
                    and (archived is None or dossier.archived == archived)
                    and (allowed is None or dossier.revision in allowed))
        return accept

    def deletedDossiers(self, info, first=None, last=None, after=None, before=None, deletedSince=None, order=None):
        entries = self._store.deleted[self.number]
        by_key = {(e.deleted_at, e.number): e for e in entries}
        page = paginate(sorted(by_key), first=first, last=last, after=after, before=before, since=deletedSince,
                        order=order)
        nodes = [
            {"id": gid("DeletedDossier", e.number), "number": e.dossier_number, "state": e.state,
             "reason": e.reason, "dateSupression": e.deleted_at}
            for e in (by_key[k] for k in page.keys)
        ]
        return _connection(page, nodes)

    def pendingDeletedDossiers(self, info, first=None, last=None, after=None, before=None, deletedSince=None, order=None):
        page = paginate(self._store.trash_index(self.number), first=first, last=last, after=after, before=before,
                        since=deletedSince, order=order)
        nodes = []
        for _, number in page.keys:
            dossier = self._store.dossiers[number]
            nodes.append({"id": gid("DeletedDossier", number), "number": number, "state": dossier.state,
                          "reason": dossier.hidden_reason, "dateSupression": dossier.hidden_at})
        return _connection(page, nodes)


def _connection(page, nodes) -> dict:
    return {
        "nodes": nodes,
        "edges": [{"cursor": encode_cursor(*key), "node": node} for key, node in zip(page.keys, nodes)],
        "pageInfo": page.page_info(),
    }


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
        self.dateExpiration = None
        self.dateSuppressionParUsager = r.hidden_at if r.hidden_by == "usager" else None
        self.dateSuppressionParAdministration = r.hidden_at if r.hidden_by == "administration" else None
        self.motivation = r.motivation
        self.instructeurs = []

    @property
    def _revision(self) -> Revision:
        return self._demarche.revisions[self._record.revision]

    @property
    def usager(self):
        return {"id": gid("User", self._record.number), "email": self._record.usager_email}

    @property
    def demandeur(self):
        etablissement = self._record.values.get("employeur_siret")
        if isinstance(etablissement, Etablissement):
            return etablissement_view(etablissement) | {"__typename": "PersonneMorale"}
        return {"__typename": "PersonneMorale", "id": gid("Etablissement", 0), "siret": "", "siegeSocial": False,
                "naf": None, "libelleNaf": "", "address": None, "entreprise": None}

    @property
    def groupeInstructeur(self):
        groupe = self._demarche.groupe(self._record.groupe) or self._demarche.groupes[0]
        return groupe_view(groupe)

    @property
    def demarche(self):
        d = self._demarche
        return {"id": d.id, "number": d.number, "title": d.title, "state": d.state,
                "revision": revision_view(self._revision)}

    @property
    def revision(self):
        return revision_view(self._revision)

    @property
    def traitements(self):
        return [
            {"id": gid("Traitement", self._record.number * 100 + i), "event": t.event, "state": t.state,
             "dateTraitement": t.at, "emailAgentTraitant": t.email, "motivation": t.motivation, "revision": None}
            for i, t in enumerate(self._record.traitements)
        ]

    @property
    def labels(self):
        labels = (self._demarche.label(n) for n in self._record.labels)
        return [label_view(label) for label in labels if label]

    def messages(self, info, id=None):
        return [
            {"id": m.id, "email": m.email, "body": m.body, "createdAt": m.created_at, "discardedAt": None,
             "attachments": [], "correction": {"reason": m.correction, "dateResolution": None} if m.correction else None}
            for m in self._record.messages
            if id is None or m.id == id
        ]

    def champs(self, info, id=None):
        record = self._record
        skip, extra = (), ()
        if record.anomaly and record.anomaly[0] == "missing_champ":
            skip = (record.anomaly[1],)
        if record.anomaly and record.anomaly[0] == "extra_champ":
            extra = ((UNKNOWN_CHAMP_STABLE_ID, "Champ ajouté hors procédure", "valeur inattendue"),)
        champs = render_champs(self._revision.champs, record.values, self.dateDerniereModificationChamps,
                               record.number, self._render_context(), skip, extra)
        broken = self._context["faults"].node_error(record.number)
        if broken:
            champs = break_field(champs, broken)
        return [c for c in champs if id is None or c["id"] == id]

    def annotations(self, info, id=None):
        champs = render_champs(self._revision.annotations, self._record.annotations,
                               self.dateDerniereModificationAnnotations, self._record.number, self._render_context())
        return [c for c in champs if id is None or c["id"] == id]

    def _render_context(self) -> RenderContext:
        return RenderContext(self._context["base_url"])
