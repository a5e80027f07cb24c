"""Remake the README's screenshots of both public pages, at a phone's 390 px and a computer's 1280 px, into docs/.

    python scripts/screenshots.py [--dossiers 2000] [--seed 1] [--out docs]

Runs what a deployment runs, on synthetic data: a local DS sandbox of --dossiers dossiers (the same for a given
--seed), `wif procedure bind --yes` and `wif sync --no-push` into a throw-away SQLite file with a validity pepper
(so accepted dossiers are published), `wif stats --out` (linked to the validity check), then `wif serve` on a free
port; Debian's Chromium through Playwright photographs the statistics page and the validity check after a lookup of
an authorisation in force (a student's real synthetic birth date). Writes stats-page-390.png, stats-page-1280.png,
validity-page-390.png and validity-page-1280.png, each kept under MAX_BYTES: a page taller than MAX_HEIGHT css px is
cut to its first screens.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: `python scripts/screenshots.py`
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {390: 844, 1280: 900}  # width → the screen's height
MAX_HEIGHT = {390: 5200, 1280: 2600}  # css px kept of a long page: its first screens
MAX_BYTES = 700_000
PEPPER = "screenshots-pepper-" + "s" * 32  # synthetic data only: no real birth date is ever hashed with it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wif(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def build(work: Path, dossiers: int, seed: int, validity_port: int) -> dict:
    """Sync the sandbox into work/wif.db and write the statistics site; returns the environment of `wif`."""
    from jobs.runtime import routing_groupes
    from sandbox.embedded import EMBEDDED_RATE_LIMIT, embedded_sandbox

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'wif.db'}",
        "WIF_VALIDITY_PEPPER": PEPPER,
        "WIF_VALIDITY_URL": f"http://127.0.0.1:{validity_port}",
    }
    with embedded_sandbox(dossiers=dossiers, seed=seed, groupes=routing_groupes()) as sandbox:
        ds = {
            "DS_API_URL": sandbox.url,
            "DS_API_TOKEN": sandbox.token,
            "DS_DEMARCHE_NUMBER": "1",
            "DS_PAGE_SIZE": "100",
            "DS_REQUESTS_PER_MINUTE": str(EMBEDDED_RATE_LIMIT),
        }
        wif("procedure", "bind", "--yes", env={**env, **ds})
        wif("sync", "--no-push", env={**env, **ds})
    wif("stats", "--out", str(work / "site"), env=env)
    return env


def valid_lookup(database: Path) -> tuple[int, str]:
    """A published authorisation in force and its student's birth date, as the employer types them."""
    import sqlite3

    today = date.today().isoformat()
    with sqlite3.connect(database) as connection:
        number, birth = connection.execute(
            "SELECT v.dossier_number, s.birth_date FROM validity_records v JOIN students s "
            "ON s.dossier_number = v.dossier_number WHERE v.state = 'valid' AND v.apt_start <= ? AND ? <= v.apt_end "
            "ORDER BY v.dossier_number LIMIT 1",
            (today, today),
        ).fetchone()
    year, month, day = birth.split("-")
    return number, f"{day}/{month}/{year}"


@contextmanager
def serving(env: dict, port: int):
    server = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("wif serve did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def photograph(page, path: Path, width: int) -> Path:
    """The whole page, or its first MAX_HEIGHT css px; then smaller if the file is still too big."""
    page.wait_for_function("document.fonts.status === 'loaded'")
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT[width])
    while True:
        page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": width, "height": height}, full_page=True)
        if path.stat().st_size <= MAX_BYTES or height <= WIDTHS[width]:
            return path
        height = int(height * 0.8)


def shoot(stats_page: Path, validity_url: str, lookup: tuple[int, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(stats_page.as_uri())
                written.append(photograph(page, out / f"stats-page-{width}.png", width))
                page.goto(validity_url + "/")
                page.fill("#numero", str(lookup[0]))
                page.fill("#date_naissance", lookup[1])
                with page.expect_navigation():
                    page.click("form button")
                written.append(photograph(page, out / f"validity-page-{width}.png", width))
                page.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="wif-screenshots-") as folder:
        work = Path(folder)
        env = build(work, args.dossiers, args.seed, port)
        lookup = valid_lookup(work / "wif.db")
        with serving(env, port) as url:
            written = shoot(work / "site" / "index.html", url, lookup, args.out)
    for path in written:
        print(f"{path}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
