"""The difference between what a dossier should show on DS and what DS shows,
as the mutations to send. Pure functions: no database, no network.

The target comes from the APT rules (`mappings.target`); this module only
needs its shape (`Target`), so the DS adapter knows no APT rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


# Read-only members (properties): targets and their messages are frozen dataclasses.
class WantedMessage(Protocol):
    @property
    def codes(self) -> tuple[str, ...]: ...  # identities of the findings the message covers
    @property
    def body(self) -> str: ...
    @property
    def correction(self) -> str | None: ...  # DS CorrectionReason: incomplete | incorrect | outdated


class Target(Protocol):
    @property
    def annotations(self) -> Mapping[str, str]: ...  # annotation key → value
    @property
    def label_keys(self) -> frozenset[str]: ...
    @property
    def groupe_label(self) -> str | None: ...
    @property
    def message(self) -> WantedMessage | None: ...


@dataclass(frozen=True)
class Intent:
    kind: str  # a name of connector.push.kinds.KINDS
    payload: dict

    @property
    def payload_hash(self) -> str:
        # surrogatepass: a lone surrogate from DS must not crash the push; valid text hashes as it always did.
        text = json.dumps([self.kind, self.payload], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Current:
    """What DS shows: the last fetched dossier, plus our deliveries since."""

    annotations: dict[str, str | None]
    label_keys: frozenset[str]
    groupe_label: str | None
    messaged_codes: frozenset[str]


def plan(target: Target, current: Current, managed_label_keys: frozenset[str]) -> list[Intent]:
    """Intents in the order they must be sent: the groupe first, because the
    other mutations need an instructeur of the dossier's *current* groupe."""
    intents = []
    if target.groupe_label and target.groupe_label != current.groupe_label:
        intents.append(Intent("groupe", {"groupe_label": target.groupe_label}))
    changed = {k: v for k, v in target.annotations.items() if (current.annotations.get(k) or "") != v}
    if changed:
        intents.append(Intent("annotations", {"values": dict(sorted(changed.items()))}))
    for key in sorted(target.label_keys - current.label_keys):
        intents.append(Intent("label_add", {"label_key": key}))
    for key in sorted((current.label_keys & managed_label_keys) - target.label_keys):
        intents.append(Intent("label_remove", {"label_key": key}))
    message = target.message
    if message and not set(message.codes) <= current.messaged_codes:
        intents.append(
            Intent("message", {"codes": list(message.codes), "body": message.body, "correction": message.correction})
        )
    return intents
