"""The DSFR (Système de design de l'État, `@gouvfr/dsfr` from npm): found, copied beside the static pages, served.

The package is installed by `npm ci` into node_modules/ and never copied into the repository. The pages use its
CSS only: nothing in their markup needs the DSFR's JavaScript (no menu, no modal), so they work without it and the
validity check keeps forbidding every script. Only the files the stylesheet names (fonts, icons) and the favicons
are copied or served.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from core.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
STYLESHEET = "dsfr.min.css"
FAVICONS = ("favicon/favicon.svg", "favicon/favicon.ico", "favicon/apple-touch-icon.png")
# The folder the pages find them in: <site>/dsfr/ for the static site, /dsfr/ in the validity app.
FOLDER = "dsfr"
_URL = re.compile(r"url\((?!data:)[\"']?([^\"')]+)[\"']?\)")


class DsfrMissing(ConfigError):
    """The DSFR is not installed where the pages look for it."""


def dist_dir(configured: Path | None = None) -> Path:
    """The DSFR's `dist` folder (WIF_DSFR_DIR, else the checkout's node_modules); DsfrMissing, one line, if absent."""
    folder = configured or DEFAULT_DIST
    if not (folder / STYLESHEET).is_file():
        raise DsfrMissing(
            f"WIF_DSFR_DIR: {folder / STYLESHEET} not found; the public pages need the DSFR "
            "(@gouvfr/dsfr): run `npm ci` at the repository's root, or set WIF_DSFR_DIR to its "
            "dist folder"
        )
    return folder


def asset_names(dist: Path) -> list[str]:
    """The stylesheet, every file it names (Marianne and Spectral fonts, icons), the favicons: paths under dist."""
    css = (dist / STYLESHEET).read_text(encoding="utf-8")
    named = sorted({match.split("?")[0].split("#")[0] for match in _URL.findall(css)})
    return [STYLESHEET, *named, *(name for name in FAVICONS if (dist / name).is_file())]


def copy_assets(dist: Path, out_dir: Path) -> list[Path]:
    """Copy the assets into `out_dir`/dsfr/, keeping their relative paths (the stylesheet's url()s still hold)."""
    written = []
    for name in asset_names(dist):
        target = out_dir / FOLDER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dist / name, target)
        written.append(target)
    return written
