"""Remake the README's screenshot of the statistics page (docs/stats-page.png).

    python scripts/screenshot_stats.py [--out docs/stats-page.png] [--width 1100] [--height 1300] [--dossiers 2000]

Runs what a user runs: `wif sync --no-push` against a local DS sandbox of
synthetic dossiers (the same for a given --dossiers and --seed) into a
throw-away SQLite file, then `wif stats`, and photographs the top of the
page in headless Chromium (Debian's `/usr/bin/chromium`, through
Playwright). More dossiers than the embedded sandbox's 300, so that fewer
cells are hidden by the small-count rule and the bars show.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: `python scripts/screenshot_stats.py`
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def build_site(work: Path, dossiers: int, seed: int) -> Path:
    from jobs.runtime import routing_groupes
    from sandbox.embedded import EMBEDDED_RATE_LIMIT, embedded_sandbox

    with embedded_sandbox(dossiers=dossiers, seed=seed, groupes=routing_groupes()) as sandbox:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'wif.db'}",
            "DS_API_URL": sandbox.url,
            "DS_API_TOKEN": sandbox.token,
            "DS_DEMARCHE_NUMBER": "1",
            "DS_PAGE_SIZE": "100",
            "DS_REQUESTS_PER_MINUTE": str(EMBEDDED_RATE_LIMIT),
        }
        wif = [sys.executable, "-m", "jobs.cli"]
        subprocess.run([*wif, "procedure", "bind", "--yes"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*wif, "sync", "--no-push"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*wif, "stats", "--out", str(work / "site")], cwd=ROOT, env=env, check=True)
    return work / "site" / "index.html"


def screenshot(page_path: Path, out: Path, width: int, height: int) -> Path:
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(page_path.as_uri())
            page.screenshot(path=str(out), full_page=False)
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "stats-page.png")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1300)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wif-screenshot-") as work:
        out = screenshot(build_site(Path(work), args.dossiers, args.seed), args.out, args.width, args.height)
    print(f"{out}: {out.stat().st_size // 1024} KiB, {args.width}×{args.height} CSS px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
