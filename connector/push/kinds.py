"""One row per kind of mutation push sends: all push knows of a kind.

A new kind is a row here, its `.graphql` document in connector/graphql/ (named
after the DS mutation), and whatever plans intents of that kind. Why each
column is what it is: docs/ds-push.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connector.push.live import LiveDemarche


@dataclass
class Shown:
    """What DS shows of a dossier, as push compares it: the last fetch, then each kind's overlay."""

    annotations: dict[str, str | None]  # annotation key → value
    label_keys: set[str]
    groupe_label: str | None
    messaged_codes: set[str]  # findings a delivered message covers


@dataclass(frozen=True)
class Parts:
    """A mutation of several values that DS saves one by one (docs/ds-push.md#partial-annotations):
    what it saved is delivered, only the rest is sent again."""

    key: str  # the payload's dict of values, by key
    # The keys the mutation's answer says DS saved; None when the answer says nothing.
    in_answer: Callable[[dict, dict, LiveDemarche], set[str] | None]
    # The keys whose value the dossier DS shows already has.
    on_ds: Callable[[dict, dict, LiveDemarche], set[str]]


@dataclass(frozen=True)
class Kind:
    name: str  # the outbox row's `kind`
    mutation: str  # the DS mutation: connector/graphql/<mutation>.graphql
    order: int  # within a dossier, lower first
    # The mutation's input beyond clientMutationId, dossierId and instructeurId: (payload, live, dossier state).
    variables: Callable[[dict, LiveDemarche, str], dict]
    # Read back after a lost answer: is the mutation's effect on the dossier DS shows? (payload, dossier, live)
    arrived: Callable[[dict, dict, LiveDemarche], bool]
    # What DS shows once the mutation is delivered, before the sync reads it back.
    overlay: Callable[[dict, Shown], None]
    describe: Callable[[dict], str]  # for a dry run's plan
    # The payload cut to what the live démarche has; None when nothing of it can be sent.
    usable: Callable[[dict, LiveDemarche], dict | None] = lambda payload, live: payload
    # Takes instructeurId: the connector's instructeur must be a member of the dossier's groupe
    # (docs/ds-push.md#instructeur-check).
    as_instructeur: bool = False
    # Sent only while DS shows the dossier en_construction (docs/ds-push.md#correction-flag).
    only_en_construction: bool = False
    # A sync reads the effect back from DS; otherwise only the delivered row remembers it (a message's findings).
    read_back: bool = True
    # Asks the applicant to correct the dossier: the circuit breaker counts these (README, "Safety stops").
    asks_applicant: bool = False
    parts: Parts | None = None


def _groupe_variables(payload: dict, live: LiveDemarche, state: str) -> dict:
    return {"groupeInstructeurId": live.groupes[payload["groupe_label"]]["id"]}


def _groupe_arrived(payload: dict, dossier: dict, live: LiveDemarche) -> bool:
    return (dossier.get("groupeInstructeur") or {}).get("label") == payload["groupe_label"]


def _groupe_overlay(payload: dict, shown: Shown) -> None:
    shown.groupe_label = payload["groupe_label"]


def _existing_groupe(payload: dict, live: LiveDemarche) -> dict | None:
    return payload if payload["groupe_label"] in live.groupes else None


def _annotations_variables(payload: dict, live: LiveDemarche, state: str) -> dict:
    return {
        "annotations": [
            {"id": live.annotation_ids[key], "value": {live.annotation_types[key]: value}}
            for key, value in payload["values"].items()
        ]
    }


def _annotations_in_answer(payload: dict, answer: dict, live: LiveDemarche) -> set[str] | None:
    if answer.get("annotations") is None:
        return None
    saved_ids = {a.get("champDescriptorId") or a.get("id") for a in answer["annotations"]}
    return {key for key in payload["values"] if live.annotation_ids.get(key) in saved_ids}


def _annotations_on_ds(payload: dict, dossier: dict, live: LiveDemarche) -> set[str]:
    shown = {}
    for champ in dossier.get("annotations") or []:
        shown[champ.get("champDescriptorId") or champ.get("id")] = champ.get("stringValue")
    return {key for key, value in payload["values"].items() if (shown.get(live.annotation_ids.get(key)) or "") == value}


def _annotations_arrived(payload: dict, dossier: dict, live: LiveDemarche) -> bool:
    return _annotations_on_ds(payload, dossier, live) == set(payload["values"])


def _annotations_overlay(payload: dict, shown: Shown) -> None:
    shown.annotations.update(payload["values"])


def _live_annotations(payload: dict, live: LiveDemarche) -> dict | None:
    values = {k: v for k, v in payload["values"].items() if k in live.annotation_ids}
    return {"values": values} if values else None


def _label_variables(payload: dict, live: LiveDemarche, state: str) -> dict:
    return {"labelId": live.label_ids[payload["label_key"]]}


def _label_on(dossier: dict, payload: dict, live: LiveDemarche) -> bool:
    return live.label_ids.get(payload["label_key"]) in {label.get("id") for label in dossier.get("labels") or []}


def _live_label(payload: dict, live: LiveDemarche) -> dict | None:
    return payload if payload["label_key"] in live.label_ids else None


def _message_variables(payload: dict, live: LiveDemarche, state: str) -> dict:
    variables = {"body": payload["body"]}
    if payload.get("correction") and state == "en_construction":
        variables["correction"] = payload["correction"]
    return variables


def _normalized(text: str | None) -> str:
    return " ".join((text or "").split())


def _message_arrived(payload: dict, dossier: dict, live: LiveDemarche) -> bool:
    wanted = _normalized(payload["body"])
    return any(_normalized(m.get("body")) == wanted for m in dossier.get("messages") or [])


def _message_overlay(payload: dict, shown: Shown) -> None:
    shown.messaged_codes.update(payload["codes"])


def _no_overlay(payload: dict, shown: Shown) -> None:
    """The effect is not part of what push compares."""


def _first_value(payload: dict) -> str:
    return str(next(iter(payload.values()), ""))


KINDS_IN_ORDER = (
    # The groupe first: the others need an instructeur of the dossier's new groupe.
    Kind(
        "groupe",
        "dossierChangerGroupeInstructeur",
        0,
        _groupe_variables,
        _groupe_arrived,
        _groupe_overlay,
        _first_value,
        usable=_existing_groupe,
    ),
    Kind(
        "annotations",
        "dossierModifierAnnotations",
        1,
        _annotations_variables,
        _annotations_arrived,
        _annotations_overlay,
        lambda payload: ", ".join(sorted(payload["values"])),
        usable=_live_annotations,
        as_instructeur=True,
        parts=Parts("values", _annotations_in_answer, _annotations_on_ds),
    ),
    Kind(
        "label_add",
        "dossierAjouterLabel",
        2,
        _label_variables,
        lambda p, d, live: _label_on(d, p, live),
        lambda payload, shown: shown.label_keys.add(payload["label_key"]),
        _first_value,
        usable=_live_label,
    ),
    Kind(
        "label_remove",
        "dossierSupprimerLabel",
        3,
        _label_variables,
        lambda p, d, live: not _label_on(d, p, live),
        lambda payload, shown: shown.label_keys.discard(payload["label_key"]),
        _first_value,
        usable=_live_label,
    ),
    Kind(
        "message",
        "dossierEnvoyerMessage",
        4,
        _message_variables,
        _message_arrived,
        _message_overlay,
        lambda p: f"({len(p['codes'])} finding(s), correction={p.get('correction')})",
        as_instructeur=True,
        only_en_construction=True,
        read_back=False,
        asks_applicant=True,
    ),
    Kind(
        "instruction",
        "dossierPasserEnInstruction",
        5,
        lambda payload, live, state: {"disableNotification": payload["disable_notification"]},
        lambda payload, dossier, live: dossier.get("state") != "en_construction",
        _no_overlay,
        _first_value,
        as_instructeur=True,
    ),
)
KINDS = {kind.name: kind for kind in KINDS_IN_ORDER}
