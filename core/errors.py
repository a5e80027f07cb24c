"""The exit codes of every `wif` verb, and the one family of errors that carries them.

An error that ends a command is a `WifError`: the CLI prints its message as one line on stderr and exits with its
`exit_code`; the scheduler records the same line as the job run's summary. A code means the same thing whichever
verb returns it, so a script or a monitor can act on it without knowing the verb. The README's table is `MEANINGS`,
checked by tests/test_exit_codes.py.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    CONFIG = 2
    DS_TOKEN = 3
    DS_NOT_FOUND = 4
    DS_UNAVAILABLE = 5
    DS_ERROR = 6
    PUSH_STOPPED = 7
    HELD = 8
    CURSOR_LOOP = 9
    NOT_BOUND = 10
    PAGE_INCONSISTENT = 11
    HOST_REFUSED = 12
    BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for any program whose reader went away


# What each code means, for an operator (the README's "Exit codes" table, word for word).
MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done",
    ExitCode.FAILED: (
        "the command ran but part of it did not succeed: `procedure check` found a drift; `procedure bind` found a "
        "required key unbound, an ambiguity or a type change (nothing stored); `procedure apply`: DS refused a "
        "mutation; `notify`, `digest`, `report --send`: the mail server could not be reached (the messages stay due);"
        " `status --fail-on-error`: the last run of a job failed"
    ),
    ExitCode.CONFIG: (
        "bad configuration or bad input: a setting (`wif: configuration error: VARIABLE: what is wrong; expected …`, "
        "before anything is created), the embedded demo (no `DS_API_URL`) on a `DATABASE_URL` other than the default "
        "or on a database holding a real démarche's binding, `procedure.yaml`, `bindings.yaml`, a `KEY=VALUE`; a "
        "`DATABASE_URL` whose server does not answer, or whose tables hold rows but no migration version (nothing is "
        "touched)"
    ),
    ExitCode.DS_TOKEN: "DS refused the token (unknown, malformed, filtered by IP, or expired): create a new one in DS",
    ExitCode.DS_NOT_FOUND: "the démarche (or a dossier, a groupe) is not found on DS, or the token may not read it",
    ExitCode.DS_UNAVAILABLE: (
        "DS unavailable: 429, 5xx or network after `DS_MAX_RETRIES` retries, or `timeout` answers in a row down to a "
        "page of one dossier"
    ),
    ExitCode.DS_ERROR: (
        "another DS error (a GraphQL error, an HTTP status that is not retried, an empty `DS_INSTRUCTEUR_ID` for a "
        "push)"
    ),
    ExitCode.PUSH_STOPPED: (
        "the push stopped, nothing sent (from `sync`, once the sync is saved): a read-only token, or a "
        "`DS_INSTRUCTEUR_ID` that is an instructeur of no groupe of the démarche (wrong, or never added: `wif "
        "procedure apply --yes` adds it)"
    ),
    ExitCode.HELD: "the push's circuit breaker held the run: nothing sent (`--force` sends it)",
    ExitCode.CURSOR_LOOP: (
        "DS gave back a page cursor already seen (its dossiers modified while the page was read, or cursors coarser "
        "than its dates): the pages read before are saved, run again"
    ),
    ExitCode.NOT_BOUND: (
        "the démarche is not bound, or its binding does not fit the published revision: nothing mapped, nothing "
        "written; run `wif procedure bind`"
    ),
    ExitCode.PAGE_INCONSISTENT: (
        "DS kept answering a page that does not add up (no `pageInfo`; no dossier, or no `endCursor`, while more "
        "pages are announced), asked again `DS_MAX_RETRIES` times, or pages shorter than asked for in every re-scan: "
        "the pages before are saved, the cursor did not move past a page it could not trust, the next run re-reads "
        "what was left out"
    ),
    ExitCode.HOST_REFUSED: (
        "the host refused what the command needs: `serve`'s port is in use or may not be used, an `--out` directory "
        "cannot be created or written (nothing is written)"
    ),
    ExitCode.BROKEN_PIPE: (
        "the reader of the output went away (a `head -1` after a pipe): nothing more is printed, and no message "
        "either, as for any Unix program"
    ),
}


class WifError(Exception):
    """An error that ends a command: its message is the one line an operator reads, `exit_code` the code it
    exits with."""

    exit_code: ExitCode = ExitCode.FAILED


class DatabaseUnavailable(WifError):
    """The database of DATABASE_URL did not answer."""

    exit_code = ExitCode.CONFIG


class HostRefused(WifError):
    """The operating system refused a port or a place to write."""

    exit_code = ExitCode.HOST_REFUSED
