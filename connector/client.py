"""DS GraphQL API v2 client: HTTP, GraphQL, retries and rate limits.

It knows nothing of APT rules. Documents are loaded by operation name from
`connector/graphql/`, and `operationName` is always sent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from gql import GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportClosed,
    TransportConnectionFailed,
    TransportProtocolError,
    TransportServerError,
)
from gql.transport.requests import RequestsHTTPTransport

from connector import documents
from connector.batch import BatchItem, assemble
from connector.errors import (
    Action,
    DSAnswerLost,
    DSError,
    DSQueryTimeout,
    DSUnavailable,
    NodeError,
    classify,
    graphql_error,
    node_errors,
)
from connector.ratelimit import SYNC, RequestBudget
from connector.storable import may_hold_unstorable

log = logging.getLogger(__name__)
# gql logs whole request and response bodies at DEBUG: they hold personal data.
logging.getLogger("gql.transport.requests").setLevel(logging.WARNING)

DEFAULT_API_URL = "https://demarche.numerique.gouv.fr/api/v2/graphql"


class _Transport(RequestsHTTPTransport):
    """Keeps the status and headers of the last answer, which gql drops."""

    last_status: int | None = None
    unstorable: bool = False  # the last answer may hold a NUL or a lone surrogate

    def _prepare_result(self, response: requests.Response):
        self.last_status = response.status_code
        self.response_headers = response.headers
        self.unstorable = may_hold_unstorable(response.content)
        return super()._prepare_result(response)


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)
    batched_items: int = 0  # operations that travelled inside a batch
    # Retries by what caused them: "HTTP 429", "HTTP 502", "timeout" (a page DS
    # gave up on, retried by the page iterator), a network error's name.
    retries_by_cause: dict[str, int] = field(default_factory=dict)

    def count_retry(self, cause: str) -> None:
        self.retries_by_cause[cause] = self.retries_by_cause.get(cause, 0) + 1


@dataclass(frozen=True)
class ItemResult:
    """One aliased root field of a batch: its value, or the error DS gave for it."""

    data: dict | None
    error: DSError | None = None

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, DSQueryTimeout)


@dataclass(frozen=True)
class BatchAnswer:
    results: list[ItemResult]
    timed_out: bool  # DS stopped before the end: some items have no result
    seconds: float


class DSClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 6,
        budget: RequestBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        priority: str = SYNC,
    ):
        if not token:
            raise ValueError("DS_API_TOKEN is empty: set it to an API token of the démarche's administrateur")
        self.url = url
        self.max_retries = max_retries
        self.budget = budget or RequestBudget()
        self.priority = priority  # whose turn in a budget shared by sync and push
        self.stats = ClientStats()
        self._sleep = sleep
        self._now = now
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._transport = _Transport(
            url=url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,  # type: ignore[arg-type]  # gql annotates int; requests takes seconds as a float
            retries=0,  # retries are ours: they must respect the budget and RateLimit-Reset
            verify=True,
        )
        self._transport.connect()
        if session is not None:
            self._transport.session = session
        self._documents: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"DSClient(url={self.url!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _document(self, operation_name: str):
        if operation_name not in self._documents:
            self._documents[operation_name] = gql(documents.load(operation_name))
        return self._documents[operation_name]

    def execute(self, operation_name: str, variables: dict | None = None) -> dict:
        """Run one operation and return its `data`, retrying what is transient.

        Raises a `connector.errors.DSError` subclass for anything else.
        """
        return self.execute_partial(operation_name, variables)[0]

    def execute_partial(
        self, operation_name: str, variables: dict | None = None, nodes_at: tuple[str, ...] = ()
    ) -> tuple[dict, list[NodeError]]:
        """Like `execute`, but errors that are each about one node of the list
        at `nodes_at` (e.g. ("demarche", "dossiers", "nodes")) come back with
        the data instead of being raised: one broken dossier must not hide its
        page (DS issue #12696)."""
        request = GraphQLRequest(
            self._document(operation_name), variable_values=variables or {}, operation_name=operation_name
        )
        for attempt in range(self.max_retries + 1):
            self.stats.requests += 1
            self.stats.by_operation[operation_name] = self.stats.by_operation.get(operation_name, 0) + 1
            with self.budget.request(self.priority):
                started = time.monotonic()
                status, body, headers, network_error = self._send(request)
            log.debug(
                "%s %s -> %s in %.2fs", operation_name, self.url, status or network_error, time.monotonic() - started
            )
            if network_error is None:
                outcome = classify(status, body)
                if outcome.action is Action.OK:
                    return body["data"], []
                if outcome.error is not None:
                    broken = (
                        node_errors(body["errors"], nodes_at)
                        if nodes_at and status == 200 and body and body.get("data")
                        else None
                    )
                    if broken:
                        return body["data"], broken
                    raise outcome.error
            if attempt == self.max_retries:
                break
            self._back_off(operation_name, attempt, status, headers, network_error)
        raise self._unavailable(operation_name, status, network_error)

    def execute_batch(self, items: list[BatchItem]) -> BatchAnswer:
        """Run several operations in one request (`connector.batch`); each item
        gets its own result or error.

        A batch of mutations is sent once: only a 429 (refused before DS reads
        the request) or a failure to connect is retried. Any other failure may
        have come after DS applied some of them: `DSAnswerLost` says so, and the
        caller reads DS before sending any of them again.
        """
        batch = assemble(items)
        mutation = batch.operation_name != "wifQueries"
        for attempt in range(self.max_retries + 1):
            self.stats.requests += 1
            self.stats.batched_items += len(items)
            self.stats.by_operation[batch.operation_name] = self.stats.by_operation.get(batch.operation_name, 0) + 1
            with self.budget.request(self.priority):
                started = time.monotonic()
                status, body, headers, network_error = self._post(batch.text, batch.variables, batch.operation_name)
            seconds = time.monotonic() - started
            log.debug(
                "%s (%d items) -> %s in %.2fs", batch.operation_name, len(items), status or network_error, seconds
            )
            if network_error is None and status == 200 and body is not None:
                return self._split_answer(batch.aliases, body, seconds)
            # 429 (Rack::Attack, before Rails), 400, 401, 403 and a refused connection: nothing ran.
            ambiguous = (network_error is not None and network_error not in _NOT_SENT) or (
                network_error is None and (status >= 500 or status == 200)
            )
            if mutation and ambiguous:
                raise DSAnswerLost(
                    f"{batch.operation_name}: no usable answer from DS for {len(items)} mutation(s) "
                    f"({f'HTTP {status}' if status else network_error}); they may have been applied"
                )
            if network_error is None:
                outcome = classify(status, body)
                if outcome.error is not None:
                    raise outcome.error
            if attempt == self.max_retries:
                break
            self._back_off(batch.operation_name, attempt, status, headers, network_error)
        raise self._unavailable(batch.operation_name, status, network_error)

    def _back_off(self, operation_name: str, attempt: int, status, headers, network_error) -> None:
        """Count a transient failure and wait before the next attempt."""
        self.stats.retries += 1
        self._count_retry(status, network_error)
        wait = self._wait_before_retry(attempt, status, headers)
        log.warning(
            "%s: %s, retry %d/%d in %.1fs",
            operation_name,
            f"HTTP {status}" if status else network_error,
            attempt + 1,
            self.max_retries,
            wait,
        )
        self.stats.waited_seconds += wait
        self._sleep(wait)

    def _unavailable(self, operation_name: str, status, network_error) -> DSUnavailable:
        return DSUnavailable(
            f"DS did not answer {operation_name} after {self.max_retries + 1} attempts "
            f"(last: {f'HTTP {status}' if status else network_error})"
        )

    @staticmethod
    def _split_answer(aliases: tuple[str, ...], body: dict, seconds: float) -> BatchAnswer:
        data = body.get("data") or {}
        by_alias: dict[str, DSError] = {}
        timed_out = False
        for error in body.get("errors") or []:
            path = error.get("path") or []
            classified = graphql_error(error, data)
            if isinstance(classified, DSQueryTimeout):
                timed_out = True
            if path and path[0] in aliases:
                by_alias.setdefault(path[0], classified)
            elif not isinstance(classified, DSQueryTimeout):
                raise classified  # about the whole request (validation, token): nothing ran
        results = []
        for name in aliases:
            value = data.get(name)
            error = by_alias.get(name)
            if value is None and error is None:
                # No result and no error of its own: DS stopped before it (timeout).
                error = DSQueryTimeout("no result: DS stopped before this field", "timeout", [name])
            results.append(ItemResult(value if error is None or value is not None else None, error))
        return BatchAnswer(results, timed_out, seconds)

    def _post(self, query: str, variables: dict, operation_name: str):
        """One HTTP exchange for a batch, on the transport's session: the text is
        ours already (`connector.batch`), so gql need not parse and print it again."""
        transport = self._transport
        if transport.session is None:  # as gql's own execute says once the client is closed
            raise TransportClosed("Transport is not connected")
        try:
            response = transport.session.post(
                self.url,
                json={"query": query, "variables": variables, "operationName": operation_name},
                headers=transport.headers,
                timeout=transport.default_timeout,
                verify=True,
            )
        except requests.exceptions.RequestException as error:
            return None, None, {}, _network_error_name(error)
        self._transport.unstorable = may_hold_unstorable(response.content)
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body if isinstance(body, dict) else None, dict(response.headers), None

    def _send(self, request: GraphQLRequest):
        """One HTTP exchange: (status, parsed body or None, headers, network error or None)."""
        transport = self._transport
        transport.last_status = None
        transport.unstorable = False
        try:
            result = transport.execute(request)
        except TransportConnectionFailed as error:
            return None, None, {}, _network_error_name(error)
        except TransportServerError as error:
            # Not JSON and HTTP >= 400: DS's 429 is plain text (docs/ds-errors.md#http-codes).
            return error.code, None, dict(transport.response_headers or {}), None
        except TransportProtocolError:
            return transport.last_status or 0, None, dict(transport.response_headers or {}), None
        body = {"data": result.data, "errors": result.errors}
        return transport.last_status or 200, body, dict(transport.response_headers or {}), None

    @property
    def last_answer_unstorable(self) -> bool:
        """The last answer may hold a NUL or a lone surrogate (connector.storable):
        its raw copy must be cleaned before it is stored."""
        return self._transport.unstorable

    def _count_retry(self, status: int | None, network_error: str | None) -> None:
        self.stats.count_retry(f"HTTP {status}" if status else str(network_error))

    def backoff(self, attempt: int) -> float:
        """Sleep before retry number `attempt` (from 0) of something transient
        the caller retries itself (a page DS timed out on); returns the wait."""
        wait = self._wait_before_retry(attempt, None, {})
        self.stats.waited_seconds += wait
        self._sleep(wait)
        return wait

    def _wait_before_retry(self, attempt: int, status: int | None, headers: dict) -> float:
        if status == 429:
            self.stats.throttled += 1
            server_wait = _server_wait_seconds(headers, self._now())
            if server_wait is not None:
                # A little jitter so that several workers do not all come back at once.
                return server_wait + random.uniform(0, 0.5)
        backoff = min(self._backoff_cap, self._backoff_base * 2**attempt)
        return random.uniform(backoff / 2, backoff)


# Failures that prove the request never reached DS.
_NOT_SENT = frozenset({"NewConnectionError", "ConnectTimeout", "ConnectTimeoutError"})


def _network_error_name(error: BaseException) -> str:
    """The most telling name in the exception chain (a refused connection is
    wrapped by urllib3, requests and gql)."""
    names: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(names) < 8:
        names.append(type(seen).__name__)
        reason = getattr(seen, "reason", None)  # urllib3's MaxRetryError
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = reason if isinstance(reason, BaseException) else (seen.__cause__ or wrapped or seen.__context__)
    for name in names:
        if name in _NOT_SENT:
            return name
    if "ConnectTimeout" in names:
        return "ConnectTimeout"
    return names[1] if len(names) > 1 else names[0]


def _server_wait_seconds(headers: dict, now: float) -> float | None:
    """Seconds DS asks us to wait: Retry-After if present, else until RateLimit-Reset."""
    lowered = {k.lower(): v for k, v in headers.items()}
    retry_after = lowered.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = lowered.get("ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None
