"""What can go wrong talking to DS, classified once by what to do next.

- retry: network errors, 429, 502/503/504;
- shrink: a `timeout` GraphQL error (partial data): retry the page smaller;
- fail: bad or expired token, unknown or forbidden démarche, other errors;
- quarantine: errors that are each about one node of a list (`nodes:
  [Dossier]`: DS nulls that node, or a field inside it, and keeps the others,
  docs/ds-errors.md#errors-beside-data, `invalid_null`), see `node_errors`: the caller keeps the good
  nodes and sets the failed ones aside;
- reject: a mutation payload's `errors` (docs/ds-errors.md#errors-as-data-in-mutations), see
  `classify_rejection`.

Messages never contain the token: only the HTTP status, the DS error code,
message and path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import ExitCode, WifError


class DSError(WifError):
    """Base of every error raised by the DS client."""

    exit_code = ExitCode.DS_ERROR


class DSAuthenticationError(DSError):
    """The token was refused (HTTP 403 `forbidden`): unknown, malformed or IP-filtered."""

    exit_code = ExitCode.DS_TOKEN


class DSTokenExpired(DSAuthenticationError):
    """The token has expired (HTTP 401): create a new one in DS."""


class DSNotFound(DSError):
    """The démarche, dossier or groupe does not exist (`not_found`)."""

    exit_code = ExitCode.DS_NOT_FOUND


class DSForbidden(DSError):
    """The object exists but this token may not read it (`unauthorized`)."""

    exit_code = ExitCode.DS_NOT_FOUND


class DSGraphQLError(DSError):
    """A top-level GraphQL error that is not one of the cases above."""

    def __init__(self, message: str, code: str | None = None, path: list | None = None, data=None):
        self.code = code
        self.path = path
        self.data = data  # partial data, when DS sent some
        self.ds_message = message  # DS's own words, without ours around them
        where = f" at {'.'.join(str(p) for p in path)}" if path else ""
        super().__init__(f"DS GraphQL error{where} [{code or 'no code'}]: {message}")


class DSQueryTimeout(DSGraphQLError):
    """DS gave up on the query (`timeout`); the data is partial. Retry with a smaller page."""


class DSUnavailable(DSError):
    """DS kept failing (429, 5xx or network) after every retry."""

    exit_code = ExitCode.DS_UNAVAILABLE


class DSAnswerLost(DSUnavailable):
    """A batch of mutations left but no usable answer came back: DS may have
    applied any of them. Read DS before sending them again."""


class DSHTTPError(DSError):
    """An HTTP status the client does not retry (e.g. 400, 500)."""


@dataclass(frozen=True)
class NodeError:
    """DS's error about one node of a list: its index, DS's message, the path."""

    index: int
    message: str
    path: str
    code: str | None = None


def node_errors(errors: list[dict], prefix: tuple[str, ...]) -> list[NodeError] | None:
    """The errors as node errors when every one of them names a node under
    `prefix` (e.g. `demarche.dossiers.nodes.3.champs.40.files.0.byteSizeBigInt`);
    None when any is about the whole query (a timeout is never a node's)."""
    found = []
    for error in errors:
        path = error.get("path") or []
        code = (error.get("extensions") or {}).get("code")
        if code in ("timeout", "not_found", "unauthorized") or len(path) <= len(prefix):
            return None
        if tuple(path[: len(prefix)]) != prefix or not isinstance(path[len(prefix)], int):
            return None
        found.append(
            NodeError(
                path[len(prefix)], str(error.get("message", ""))[:500], ".".join(str(p) for p in path)[:500], code
            )
        )
    return found or None


class Action(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    OK = "ok"


RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    action: Action
    error: DSError | None = None  # what failed: set exactly when action is FAIL


def classify(status: int, body: dict | None) -> Outcome:
    """Decide what an HTTP answer from DS means. `body` is the parsed JSON, if any."""
    if status in RETRYABLE_STATUSES:
        return Outcome(Action.RETRY)
    if status == 401:
        return Outcome(
            Action.FAIL,
            DSTokenExpired("DS refused the token: it has expired (HTTP 401). Create a new API token in DS."),
        )
    if status == 403:
        return Outcome(
            Action.FAIL,
            DSAuthenticationError(
                "DS refused the token (HTTP 403 forbidden): it is unknown, malformed, or this machine's IP "
                "is not in the token's authorised networks. Check DS_API_TOKEN."
            ),
        )
    if body is None:
        return Outcome(Action.FAIL, DSHTTPError(f"DS answered HTTP {status} without a GraphQL JSON body"))
    errors = body.get("errors") or []
    if status >= 400:
        message = errors[0].get("message") if errors else f"HTTP {status}"
        code = ((errors[0].get("extensions") or {}).get("code")) if errors else None
        return Outcome(Action.FAIL, DSHTTPError(f"DS answered HTTP {status} [{code or 'no code'}]: {message}"))
    if not errors:
        return Outcome(Action.OK)
    # A timeout says what to do next (a smaller page) whatever else DS reports with it.
    first = next((e for e in errors if (e.get("extensions") or {}).get("code") == "timeout"), errors[0])
    return Outcome(Action.FAIL, graphql_error(first, body.get("data")))


def graphql_error(error: dict, data=None) -> DSError:
    message = error.get("message", "")
    code = (error.get("extensions") or {}).get("code")
    path = error.get("path")
    if code == "not_found":
        return DSNotFound(f"DS: {message} (not_found). Check DS_DEMARCHE_NUMBER.")
    if code == "unauthorized":
        return DSForbidden(f"DS: {message} (unauthorized). The token's administrateur has no access to this démarche.")
    if code == "timeout":
        return DSQueryTimeout(message, code, path, data)
    return DSGraphQLError(message, code, path, data)


class Rejection(enum.Enum):
    """What a mutation payload's `errors` mean for the caller."""

    READ_ONLY = "read_only"  # the token cannot write: stop every mutation
    ALREADY_DONE = "already_done"  # the goal is reached (e.g. after a crash between send and record)
    REFUSED = "refused"  # DS refused this mutation: retry later, report it


# DS's own wording (app/graphql/mutations/*.rb): base_mutation.rb for the
# read-only token; "Ce label est déjà associé au dossier", "Le dossier est
# déjà avec le grope instructeur…" (sic) for what is already done.
READ_ONLY_MARKER = "seulement en lecture"
ALREADY_DONE_MARKERS = ("déjà", "already")
# dossier_supprimer_label.rb: "Ce label n’est pas associé au dossier".
LABEL_ABSENT_MARKER = "pas associé"


def classify_rejection(mutation: str, messages: list[str]) -> Rejection | None:
    """None when the payload has no errors. `mutation` is the operation name."""
    if not messages:
        return None
    if any(READ_ONLY_MARKER in message for message in messages):
        return Rejection.READ_ONLY
    if all(_already_done(mutation, message) for message in messages):
        return Rejection.ALREADY_DONE
    return Rejection.REFUSED


def _already_done(mutation: str, message: str) -> bool:
    if any(marker in message for marker in ALREADY_DONE_MARKERS):
        return True
    return mutation == "dossierSupprimerLabel" and LABEL_ABSENT_MARKER in message
