"""The sandbox calls webhooks the way DS does (docs/ds-webhooks.md), when configured.

- legacy: on each state change, `POST <legacy_url>` form-encoded with
  `procedure_id, dossier_id, state, updated_at`, unsigned;
- signed: every event, in batches of at most 100, `POST <url>` JSON
  `{webhook_id, demarche_number, events: [{sequence, type, dossier_number,
  timestamp}]}` with `X-Webhook-Signature-256: sha256=<HMAC-SHA256 hex>`;
  `sequence` only grows. DS waits 5 s before delivering (`lag`).

Delivery runs on a thread of its own, so a change never waits for it; a
failed delivery is retried a few times, then dropped (DS would go on for a
day, then disable the webhook).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.ids import gid

if TYPE_CHECKING:
    from sandbox.store import Store

log = logging.getLogger(__name__)

MAX_EVENTS = 100
LEGACY_EVENTS = frozenset(
    {
        "dossier_en_instruction",
        "dossier_repasse_en_instruction",
        "dossier_repasse_en_construction",
        "dossier_accepte",
        "dossier_refuse",
        "dossier_sans_suite",
    }
)


@dataclass
class Delivered:
    kind: str  # legacy | signed
    status: int
    sent_at: float
    dossier_numbers: tuple[int, ...]


@dataclass
class WebhookSender:
    store: Store
    url: str | None = None  # signed batches
    secret: str | None = None
    legacy_url: str | None = None
    lag: float = 0.0
    webhook_id: str = gid("Webhook", 1)
    retries: int = 3
    delivered: list[Delivered] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: list[tuple[str, dict]] = []
        self._condition = threading.Condition()
        self._sequence = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self.store.listeners.append(self._on_change)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._on_change in self.store.listeners:
            self.store.listeners.remove(self._on_change)
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join(timeout=5)

    def _on_change(self, event: str, dossier, previous_state) -> None:
        now = time.time()
        items = []
        if self.url:
            self._sequence += 1 + (self._sequence % 3 == 2)  # strictly increasing, with gaps, like DS
            items.append(
                (
                    "signed",
                    {
                        "sequence": self._sequence,
                        "type": event,
                        "dossier_number": dossier.number,
                        "timestamp": dossier.updated_at.isoformat() if dossier.updated_at else None,
                        "_demarche": dossier.demarche,
                        "_at": now,
                    },
                )
            )
        if self.legacy_url and event in LEGACY_EVENTS:
            items.append(
                (
                    "legacy",
                    {
                        "procedure_id": dossier.demarche,
                        "dossier_id": dossier.number,
                        "state": dossier.state,
                        "updated_at": dossier.updated_at.isoformat(),
                        "_at": now,
                    },
                )
            )
        if items:
            with self._condition:
                self._queue.extend(items)
                self._condition.notify_all()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._queue and not self._stopping:
                    self._condition.wait(0.5)
                if self._stopping and not self._queue:
                    return
                wait = self._queue[0][1]["_at"] + self.lag - time.time()
                if wait > 0 and not self._stopping:
                    self._condition.wait(wait)
                    continue
                due_until = time.time() - self.lag
                batch = [item for item in self._queue if item[1]["_at"] <= due_until or self._stopping]
                self._queue = [item for item in self._queue if item not in batch]
            for item in [i for i in batch if i[0] == "legacy"]:
                self._deliver_legacy(item[1])
            signed = [i[1] for i in batch if i[0] == "signed"]
            for start in range(0, len(signed), MAX_EVENTS):
                self._deliver_signed(signed[start : start + MAX_EVENTS])

    def _deliver_legacy(self, item: dict) -> None:
        if self.legacy_url is None:  # unset since the change was queued: nowhere to deliver it
            return
        form = {k: str(v) for k, v in item.items() if not k.startswith("_")}
        body = urllib.parse.urlencode(form).encode()
        self._post(
            "legacy",
            self.legacy_url,
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
            (item["dossier_id"],),
        )

    def _deliver_signed(self, events: list[dict]) -> None:
        if self.url is None:  # unset since the change was queued: nowhere to deliver it
            return
        by_demarche: dict[int, list[dict]] = {}
        for event in events:
            by_demarche.setdefault(event["_demarche"], []).append(event)
        for demarche, items in by_demarche.items():
            payload = {
                "webhook_id": self.webhook_id,
                "demarche_number": demarche,
                "events": [{k: v for k, v in e.items() if not k.startswith("_")} for e in items],
            }
            body = json.dumps(payload).encode()
            signature = "sha256=" + hmac.new((self.secret or "").encode(), body, hashlib.sha256).hexdigest()
            self._post(
                "signed",
                self.url,
                body,
                {"Content-Type": "application/json", "X-Webhook-Signature-256": signature},
                tuple(e["dossier_number"] for e in items),
            )

    def _post(self, kind: str, url: str, body: bytes, headers: dict, numbers: tuple[int, ...]) -> None:
        status = 0
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # DS's timeout is 10 s
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            if 200 <= status < 300 or 400 <= status < 500:
                break
            time.sleep(min(5.0, 0.2 * 2**attempt))
        self.delivered.append(Delivered(kind, status, time.time(), numbers))
