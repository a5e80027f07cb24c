"""Progress bars for a long `wif sync` or `wif push`, only on a terminal.

tqdm draws the bar with its rate and time left, redraws in place, and knows
to stay out of the way when stderr is not a terminal (the scheduler, CI,
pipes): we do not draw at all then, so logs stay clean.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from connector.sync import SyncSummary

if TYPE_CHECKING:  # tqdm itself is imported when a bar is drawn, on a terminal only
    from tqdm import tqdm


def on_terminal() -> bool:
    return sys.stderr.isatty()


class SyncBar:
    """Pages and dossiers of a sync; DS does not say how many pages there are."""

    def __init__(self) -> None:
        self._bars: dict[int, tqdm[Any]] = {}
        self._seen: dict[int, int] = {}

    def __call__(self, summary: SyncSummary) -> None:
        from tqdm import tqdm

        bar = self._bars.get(summary.demarche_number)
        if bar is None:
            bar = self._bars[summary.demarche_number] = tqdm(
                desc=f"sync démarche {summary.demarche_number}",
                unit=" dossiers",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )
        bar.update(summary.fetched - self._seen.get(summary.demarche_number, 0))
        self._seen[summary.demarche_number] = summary.fetched
        bar.set_postfix(pages=summary.pages, new=summary.created, updated=summary.updated, refresh=False)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


class PushBar:
    """Mutations of a push: their number is known once planned."""

    def __init__(self, demarche_number: int):
        self.demarche_number = demarche_number
        self._bar: tqdm[Any] | None = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total,
            desc=f"push démarche {self.demarche_number}",
            unit=" mutations",
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def advance(self, mutations: int) -> None:
        if self._bar is not None:
            self._bar.update(mutations)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogAboveBars(logging.StreamHandler):
    """On a terminal, each log line goes above the progress bars: tqdm clears them, the line is written, the bars
    are drawn again below it (a plain write would land in the middle of a bar's line)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:  # noqa: BLE001 - logging's own rule: a handler never raises
            self.handleError(record)


def configure_logging(verbose: bool, stream=None) -> None:
    """Like `logging.basicConfig` (nothing changes when the root logger has handlers already), with log lines
    above the progress bars on a terminal."""
    stream = stream or sys.stderr
    handler = LogAboveBars(stream) if stream.isatty() else logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
