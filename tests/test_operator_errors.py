"""What an operator meets when the host is not as expected: one line on stderr, the documented exit code, no
traceback, nothing created. (Configuration values themselves: tests/test_settings*.py.)"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.errors import ExitCode
from jobs.cli import main

ROOT = Path(__file__).resolve().parents[1]
PEPPER = "p" * 40


def wif(*argv: str, env: dict[str, str], stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """`wif` as a user runs it: its own process, so a traceback or a stray print would show."""
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *argv],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def one_line(text: str) -> str:
    assert "Traceback" not in text
    assert text.count("\n") == 1, text
    return text.strip()


def test_a_database_server_that_does_not_answer(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = wif("status", env={"DATABASE_URL": f"postgresql+psycopg://wif:secret-pw@127.0.0.1:{port}/wif"})
    assert done.returncode == ExitCode.CONFIG
    line = one_line(done.stderr)
    assert line.startswith("wif status: the database of DATABASE_URL (postgresql+psycopg://wif:***@127.0.0.1:")
    assert "did not answer" in line and "secret-pw" not in line
    assert done.stdout == ""


def test_serve_on_a_port_in_use(tmp_path, monkeypatch, capsys):
    database = tmp_path / "wif.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("WIF_VALIDITY_PEPPER", PEPPER)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == ExitCode.HOST_REFUSED
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"wif serve: cannot listen on 127.0.0.1:{port}: ") and "in use" in line
    assert not database.exists()


def test_stats_out_to_a_place_that_cannot_be_written(tmp_path, monkeypatch, capsys):
    database = tmp_path / "wif.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    (tmp_path / "a-file").write_text("not a directory")
    out = tmp_path / "a-file" / "public" / "site"
    assert main(["stats", "--out", str(out)]) == ExitCode.HOST_REFUSED
    line = one_line(capsys.readouterr().err)
    assert line == f"wif stats: cannot write --out {out}: {tmp_path / 'a-file'} is not a directory; nothing was written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no database, no directory


def test_a_reader_that_goes_away(tmp_path):
    """`wif … | head -1`: the reader is gone before wif writes. Like any Unix program: quiet, 141."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = wif(
            "schedule",
            "--dry-run",
            stdout=write,
            env={
                "DATABASE_URL": f"sqlite:///{tmp_path / 'wif.db'}",
                "DS_API_URL": "https://ds.example.test/api/v2/graphql",
                "DS_API_TOKEN": "dG9rZW4",
            },
        )
    finally:
        os.close(write)
    assert done.returncode == ExitCode.BROKEN_PIPE
    assert done.stderr == ""


def test_version(capsys):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"wif {declared}\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_log_lines_go_above_the_progress_bar(monkeypatch):
    from connector.sync import SyncSummary
    from jobs.progress import LogAboveBars, SyncBar

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    log = logging.getLogger("test.sync.pages")
    handler = LogAboveBars(terminal)
    log.addHandler(handler)
    log.propagate = False
    try:
        bar = SyncBar()
        for page in (1, 2, 3):
            bar(SyncSummary(demarche_number=1, fetched=50 * page, pages=page))
            log.warning("page %d read", page)
        bar.close()
    finally:
        log.removeHandler(handler)
        log.propagate = True
    # What the terminal shows, line by line: a carriage return goes back to the start of the line.
    shown = [
        segment.strip() for line in terminal.getvalue().split("\n") for segment in line.split("\r") if segment.strip()
    ]
    assert [segment for segment in shown if "read" in segment] == ["page 1 read", "page 2 read", "page 3 read"]
    assert shown[-1].startswith("sync démarche 1: 150 dossiers")  # the bar is drawn again below the lines


def test_schedule_prints_its_times_in_paris_and_the_report_on_the_1st(time_machine, tmp_path, monkeypatch, capsys):
    time_machine.move_to("2026-07-06 10:00:00+00:00", tick=False)  # a Monday, 12:00 in Paris (CEST)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'wif.db'}")
    monkeypatch.setenv("TZ", "Europe/Paris")
    monkeypatch.setenv("DS_API_URL", "https://ds.example.test/api/v2/graphql")
    monkeypatch.setenv("DS_API_TOKEN", "dG9rZW4")
    assert main(["schedule", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("monthly report on the 1st at 06:00 (Europe/Paris)")
    assert "  sync    next run 2026-07-06 12:15 CEST" in lines
    assert "  digest  next run 2026-07-07 07:30 CEST" in lines
    assert "  stats   next run 2026-07-07 05:00 CEST" in lines
    assert "  report  next run 2026-08-01 06:00 CEST" in lines
