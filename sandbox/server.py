"""HTTP front of the sandbox: `POST /api/v2/graphql` like DS.

Order of checks, as in DS: injected faults, then the rate limit (Rack::Attack
runs before Rails), then the JSON body, the token, the query (sent, or stored:
docs/ds-persisted-queries.md), the variables, the GraphQL parse, validation
(docs/ds-validation.md) and execution. `POST /__sandbox/faults` switches faults
from outside the process; `POST /__sandbox/demarches/<number>/revisions` does
what an administrateur does in DS's editor (reword labels, remove champs,
publish: not part of DS's API). Files (docs/ds-files.md): `GET /files/...` and
`GET /api/v2/dossiers/(pdf|geojson)/...` serve what signed, unexpired URLs
name; `PUT /rails/active_storage/disk/...` receives a direct upload.
"""

from __future__ import annotations

import json
import logging
import math
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from graphql import GraphQLError, OperationDefinitionNode, OperationType, execute_sync, parse

from sandbox.faults import Faults, malformed_answer
from sandbox.files import Refused, verify
from sandbox.persisted import persisted_document
from sandbox.schema import fragment_types, sandbox_schema
from sandbox.store import ANONYMOUS, SANDBOX_TOKEN, Store
from sandbox.validation import depth_error, validation_errors

log = logging.getLogger(__name__)

GRAPHQL_PATH = "/api/v2/graphql"
FAULTS_PATH = "/__sandbox/faults"
REVISIONS_PATH = re.compile(r"^/__sandbox/demarches/(\d+)/revisions$")
FILE_PATH = re.compile(r"^/files/([^/]+)/[^/]+$")
EXPORT_PATH = re.compile(r"^/api/v2/dossiers/(pdf|geojson)/([^/?]+)$")
UPLOAD_PATH = re.compile(r"^/rails/active_storage/disk/([^/?]+)$")
THROTTLED_BODY = (
    "Calme toi, cowboy ! Tu as dépassé le nombre de requêtes autorisées, réessaie plus tard.\n"
    "Calm down, cowboy! You have exceeded the number of allowed requests, try again later.\n"
)
GATEWAY_BODIES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
PLACEHOLDER_BODY = b"%PDF-1.4\n% fichier factice du bac a sable\n"


def error_body(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}


def internal_error_body() -> dict:
    body = error_body("Internal Server Error", "internal_server_error")
    body["errors"][0]["extensions"]["exception_id"] = str(uuid.uuid4())
    return body


@dataclass
class LoggedRequest:
    operation_name: str | None
    variables: dict | None
    status: int
    time: float = field(default_factory=time.time)


class RateLimiter:
    """Rack::Attack's fixed window, aligned on epoch multiples of the window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, limit: int, window: float, now: float) -> tuple[bool, int]:
        window_index = int(now // window)
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_index}
            count = self._counts.get((key, window_index), 0) + 1
            self._counts[(key, window_index)] = count
        return count <= limit, math.ceil((window_index + 1) * window)


class SandboxServer:
    def __init__(
        self, store: Store, host: str = "127.0.0.1", port: int = 0, rate_limit: int = 400, window_seconds: float = 60
    ):
        self.store = store
        self.rate_limit = rate_limit
        self.window_seconds = window_seconds
        self.token = SANDBOX_TOKEN
        self.faults = Faults()
        self.request_log: list[LoggedRequest] = []
        self._limiter = RateLimiter()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        # An AF_INET server's address is (host, port); the stub also allows the bytes of other families.
        self.host, self.port = cast(tuple[str, int], self._httpd.server_address[:2])
        self.base_url = f"http://{self.host}:{self.port}"
        self.url = self.base_url + GRAPHQL_PATH
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        # A short poll interval keeps stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="ds-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:  # shutdown() would wait forever for a loop that never ran
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- request handling (called from handler threads) --------------------
    def check_rate_limit(self, authorization: str | None) -> int | None:
        """None if allowed, else the epoch second the window resets."""
        if not authorization:
            return None
        allowed, reset = self._limiter.hit(authorization, self.rate_limit, self.window_seconds, time.time())
        return None if allowed else reset

    def run_graphql(self, body: dict, authorization: str | None, fault_kind: str | None = None) -> tuple[int, dict]:
        # In DS's order: the token, then the query (stored or sent), then the variables.
        bearer = _bearer_token(authorization)
        token = self.store.tokens.get(bearer) if bearer is not None else None
        if token is not None and token.expired:
            return 401, error_body("Token expired", "unauthorized")
        query_id = body.get("queryId")
        if query_id:
            query = persisted_document(str(query_id))
            if query is None:  # an exception before execution: DS's generic rescue answers
                return 500, internal_error_body()
            token = token or ANONYMOUS
        elif token is None:
            return 403, error_body("Without a token, only persisted queries are allowed", "forbidden")
        else:
            query = body.get("query")
        variables = body.get("variables")
        if isinstance(variables, str):
            try:
                variables = json.loads(variables) if variables.strip() else {}
            except json.JSONDecodeError as error:
                return 400, error_body(str(error), "graphql_parse_failed")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return 400, error_body(f"Unexpected parameter: {variables!r}", "bad_request")
        if not isinstance(query, str) or not query.strip():
            return 200, {"errors": [{"message": "No query string was present"}]}
        try:
            document = parse(query)
        except GraphQLError as error:
            return 400, error_body(error.message, "graphql_parse_failed")
        schema = sandbox_schema()
        invalid = validation_errors(schema, document)
        if invalid:
            return 200, {"errors": [e.formatted for e in invalid]}
        operation_name = body.get("operationName") or None
        too_deep = depth_error(document, operation_name, variables)
        if too_deep:
            return 200, {"errors": [{"message": too_deep}]}
        document, cut = self._cut_mutation(document, operation_name)
        context: dict[str, Any] = {
            "store": self.store,
            "token": token,
            "base_url": self.base_url,
            "now": datetime.now(UTC),
            "fragment_types": None if operation_name == "IntrospectionQuery" else fragment_types(document),
            "faults": self.faults.request_faults(fault_kind),
            "extra_errors": [],
        }
        with self.store.lock:
            self.store.apply_due_rebases()
            result = execute_sync(
                schema, document, variable_values=variables, operation_name=operation_name, context_value=context
            )
        if result.data is None and result.errors and all(_is_variable_error(e) for e in result.errors):
            return 400, error_body(result.errors[0].message, "bad_request")
        errors = [e.formatted for e in (result.errors or [])] + [e.formatted for e in context["extra_errors"]]
        if cut:
            # DS's timeout: the fields it did not reach come back null, with a `timeout` error.
            result_data = dict(result.data or {})
            result_data.update({name: None for name in cut})
            errors.append({"message": "Timeout on Mutation", "path": [cut[0]], "extensions": {"code": "timeout"}})
            return 200, {"data": result_data, "errors": errors}
        if fault_kind == "timeout" and not errors:
            errors.append(error_body("Timeout on Query", "timeout")["errors"][0])
            return 200, {"data": None, "errors": errors}
        response: dict[str, Any] = {"data": result.data}
        if errors:
            response["errors"] = errors
        return 200, response

    def _cut_mutation(self, document, operation_name):
        """With `timeout_when_fields_above = N`, a mutation runs only its first N root fields."""
        limit = self.faults.timeout_when_fields_above
        operations = [
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and d.operation is OperationType.MUTATION
            and (operation_name is None or (d.name and d.name.value == operation_name))
        ]
        if limit is None or len(operations) != 1 or len(operations[0].selection_set.selections) <= limit:
            return document, []
        operation = operations[0]
        kept, dropped = operation.selection_set.selections[:limit], operation.selection_set.selections[limit:]
        used = {v.name.value for v in _variables_in(kept)}
        trimmed = replace(
            operation,
            selection_set=replace(operation.selection_set, selections=tuple(kept)),
            variable_definitions=tuple(d for d in operation.variable_definitions if d.variable.name.value in used),
        )
        definitions = tuple(trimmed if d is operation else d for d in document.definitions)
        return replace(document, definitions=definitions), [(f.alias or f.name).value for f in dropped]


def _variables_in(nodes):
    from graphql import VariableNode, Visitor, visit

    found = []

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_):
            found.append(node)

    for node in nodes:
        visit(node, Collect())
    return found


def _is_variable_error(error: GraphQLError) -> bool:
    # DS rejects variables of the wrong type before executing: HTTP 400 bad_request (docs/ds-errors.md#http-codes).
    return error.path is None and error.message.startswith("Variable '$")


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    value = authorization[len("Bearer ") :].strip()
    if value.startswith("token="):
        value = value[len("token=") :].strip('"')
    return value


def _handler_for(server: SandboxServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: with Nagle's algorithm and
        # delayed ACKs each keep-alive answer would wait ~40 ms.
        disable_nagle_algorithm = True
        # The request being answered, logged when its answer leaves (_send_raw).
        _log_entry: LoggedRequest | None = None

        def log_message(self, format, *args):  # noqa: A002 - signature of the base class
            log.debug("sandbox %s", format % args)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == FAULTS_PATH:
                return self._configure_faults(raw)
            if REVISIONS_PATH.match(self.path):
                return self._publish_revision(int(REVISIONS_PATH.match(self.path).group(1)), raw)
            if self.path != GRAPHQL_PATH:
                return self._send(404, {"error": "not found"})
            self._graphql(raw)

        def do_GET(self):
            found = FILE_PATH.match(self.path)
            if found:
                return self._file(found.group(1))
            found = EXPORT_PATH.match(self.path)
            if found:
                return self._export(found.group(1), found.group(2))
            self._send(404, {"error": "not found"})

        def do_PUT(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found = UPLOAD_PATH.match(self.path)
            if not found:
                return self._send(404, {"error": "not found"})
            with server.store.lock:
                status = server.store.blobs.receive(found.group(1), raw, self.headers.get("Content-Type"))
            self._send_raw(status, b"", "text/plain")

        def _file(self, token: str):
            """A stored file's body (the sandbox keeps uploads; other files get a placeholder body)."""
            try:
                key = verify("file", token)
            except Refused as refused:
                return self._send_raw(403 if str(refused) == "expired" else 404, b"", "text/plain")
            data = server.store.blobs.data_of(key) or PLACEHOLDER_BODY
            self._send_raw(200, data, "application/octet-stream")

        def _export(self, kind: str, token: str):
            """A dossier's PDF or GeoJSON: no token needed, the signed id is the credential (401 otherwise)."""
            try:
                number = int(verify(f"dossier-{kind}", token))
            except (Refused, ValueError):
                return self._send_raw(401, b"", "text/plain")
            if kind == "geojson":
                body = json.dumps({"type": "FeatureCollection", "id": number, "features": []}).encode()
                return self._send_raw(200, body, "application/json")
            self._send_raw(200, PLACEHOLDER_BODY, "application/pdf")

        def _graphql(self, raw: bytes):
            try:
                body = json.loads(raw or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            operation_name = body.get("operationName") if isinstance(body, dict) else None
            variables = body.get("variables") if isinstance(body, dict) else None
            fault = server.faults.take(operation_name)
            if fault and fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault and fault.kind == "reset":
                server.request_log.append(LoggedRequest(operation_name, variables, 0))
                return self._reset()
            # Logged just before the answer leaves (in _send_raw), so a client
            # that got its answer always finds its request in the log.
            self._log_entry = LoggedRequest(operation_name, variables, 0)
            self._drop_answer = bool(fault and fault.kind == "drop")
            try:
                self._answer(body, fault.kind if fault else None)
            except Exception:  # a sandbox bug must still answer, like DS's generic rescue
                log.exception("sandbox request failed")
                self._send(500, internal_error_body())

        def _answer(self, body, fault_kind: str | None) -> int:
            authorization = self.headers.get("Authorization")
            if fault_kind == "429":
                return self._throttled(math.ceil(time.time() / server.window_seconds) * server.window_seconds)
            if fault_kind == "500":
                return self._send(500, error_body("Internal Server Error", "internal_server_error"))
            if fault_kind in ("502", "503", "504"):
                status = int(fault_kind)
                return self._send_raw(status, GATEWAY_BODIES[status].encode(), "text/html")
            reset = server.check_rate_limit(authorization)
            if reset is not None:
                return self._throttled(reset)
            if not isinstance(body, dict):
                return self._send(400, error_body("Invalid JSON body", "bad_request"))
            status, payload = server.run_graphql(body, authorization, fault_kind)
            return self._send(status, malformed_answer(fault_kind, payload) if status == 200 else payload)

        def _configure_faults(self, raw: bytes):
            try:
                server.faults.configure(json.loads(raw or b"{}"))
            except (ValueError, TypeError, KeyError) as error:
                return self._send(400, {"error": str(error)})
            self._send(
                200,
                {
                    "pending": [f.__dict__ for f in server.faults.pending],
                    "timeout_when_first_above": server.faults.timeout_when_first_above,
                    "node_errors": {str(k): v for k, v in server.faults.node_errors.items()},
                },
            )

        def _publish_revision(self, demarche_number: int, raw: bytes):
            """{"labels": {"<stable id or champ name>": "new label"}, "removed": [...]}: publish a new revision."""
            if demarche_number not in server.store.demarches:
                return self._send(404, {"error": f"no démarche {demarche_number}"})
            demarche = server.store.demarches[demarche_number]
            try:
                body = json.loads(raw or b"{}")
                names = {
                    str(d.stable_id): d.key
                    for r in demarche.revisions
                    for top in (*r.champs, *r.annotations)
                    for d in (top, *top.champs)
                }
                labels = {names.get(str(k), str(k)): str(v) for k, v in (body.get("labels") or {}).items()}
                removed = tuple(names.get(str(k), str(k)) for k in body.get("removed") or ())
                revision = server.store.publish_revision(demarche_number, labels=labels, removed=removed)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                return self._send(400, {"error": str(error)})
            assert revision.published_at is not None  # publish_revision dates what it publishes
            self._send(200, {"revision": {"id": revision.id, "datePublication": revision.published_at.isoformat()}})

        def _throttled(self, reset: float) -> int:
            headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(reset))}
            return self._send_raw(429, THROTTLED_BODY.encode(), "text/plain; charset=utf-8", headers)

        def _reset(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _send(self, status: int, payload: dict) -> int:
            try:
                body = json.dumps(payload, ensure_ascii=False).encode()
            except UnicodeEncodeError:  # a lone surrogate in a value: JSON escapes it (\udce9), as DS does
                body = json.dumps(payload).encode()
            return self._send_raw(status, body, "application/json; charset=utf-8")

        def _send_raw(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> int:
            entry = getattr(self, "_log_entry", None)
            if entry is not None:
                entry.status = status
                entry.time = time.time()
                server.request_log.append(entry)
                self._log_entry = None
            if getattr(self, "_drop_answer", False):
                self._drop_answer = False
                if entry is not None:
                    entry.status = 0
                self._reset()
                return 0
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. its timeout)
                self.close_connection = True
            return status

    return Handler


def start_server(
    store: Store, host: str = "127.0.0.1", port: int = 0, rate_limit: int = 400, window_seconds: float = 60
) -> SandboxServer:
    """A running sandbox in a background thread; use it as a context manager to stop it."""
    return SandboxServer(store, host, port, rate_limit, window_seconds).start()
