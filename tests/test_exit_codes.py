"""One table of exit codes for every verb: the README's is the declaration's, and a failure gives the same code
whichever verb meets it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector import errors
from connector.pagination import CursorLoopError, PageInconsistent
from connector.push import PushStopped
from core.db import UnversionedDatabase
from core.errors import MEANINGS, DatabaseUnavailable, ExitCode, HostRefused, WifError
from core.settings import ConfigError
from jobs.binding import NotBound
from jobs.cli import main
from mappings.prefill import PrefillError
from mappings.procedure import DefinitionError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_table() -> dict[int, str]:
    section = README.read_text(encoding="utf-8").split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def test_the_readme_table_is_the_declaration():
    assert readme_table() == {int(code): meaning for code, meaning in MEANINGS.items()}
    assert set(MEANINGS) == set(ExitCode)


def test_help_lists_every_code(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = re.findall(r"^\s+(\d+)  ", capsys.readouterr().out.split("exit codes:")[1], re.M)
    assert [int(code) for code in listed] == [int(code) for code in ExitCode]


@pytest.mark.parametrize(
    "error, code",
    [
        (ConfigError, ExitCode.CONFIG),
        (DefinitionError, ExitCode.CONFIG),
        (PrefillError, ExitCode.CONFIG),
        (UnversionedDatabase, ExitCode.CONFIG),
        (DatabaseUnavailable, ExitCode.CONFIG),
        (errors.DSAuthenticationError, ExitCode.DS_TOKEN),
        (errors.DSTokenExpired, ExitCode.DS_TOKEN),
        (errors.DSNotFound, ExitCode.DS_NOT_FOUND),
        (errors.DSForbidden, ExitCode.DS_NOT_FOUND),
        (errors.DSUnavailable, ExitCode.DS_UNAVAILABLE),
        (errors.DSAnswerLost, ExitCode.DS_UNAVAILABLE),
        (errors.DSGraphQLError, ExitCode.DS_ERROR),
        (errors.DSHTTPError, ExitCode.DS_ERROR),
        (PushStopped, ExitCode.PUSH_STOPPED),
        (CursorLoopError, ExitCode.CURSOR_LOOP),
        (PageInconsistent, ExitCode.PAGE_INCONSISTENT),
        (NotBound, ExitCode.NOT_BOUND),
        (HostRefused, ExitCode.HOST_REFUSED),
    ],
)
def test_each_error_of_the_family_carries_its_code(error, code):
    assert issubclass(error, WifError) and error.exit_code == code


@pytest.mark.parametrize("argv", [["sync"], ["push"], ["procedure", "check"], ["procedure", "bind"]])
def test_a_refused_token_is_3_from_every_verb_that_reads_ds(make_sandbox, env_for, capsys, argv):
    # An expired token was 3 from `sync` and 6 from `push`.
    env_for(make_sandbox(dossiers=3), DS_API_TOKEN="bm90LWEtcmVhbC10b2tlbg")
    assert main(argv) == ExitCode.DS_TOKEN
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "refused the token" in captured.err and "Traceback" not in captured.err
    assert "bm90LWEtcmVhbC10b2tlbg" not in captured.err + captured.out
