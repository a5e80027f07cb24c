"""Headless Chromium for tests: open a page, run JavaScript, take a screenshot.

Why the DevTools protocol over `--remote-debugging-pipe` rather than
Playwright: it needs no extra package and no downloaded browser, works with
whatever version Debian's `chromium` is (only long-stable CDP methods are
used), and lets a test *evaluate* JavaScript, which `--dump-dom` cannot.

Usage in a test module:

    from tests.browser import browser  # noqa: F401  (the fixture)

    def test_page(browser, tmp_path):
        page = browser.open((tmp_path / "index.html").as_uri())
        assert page.evaluate("document.title") == "…"
        page.screenshot(Path("test-artifacts/page.png"))

or, outside pytest, the one-shot helpers `evaluate(url, js)` and
`screenshot(url, path)`. The fixture skips the test when no chromium is found.
"""
from __future__ import annotations

import base64
import fcntl
import itertools
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
DEFAULT_TIMEOUT = 30.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium failed to start, answered with an error, or timed out."""


def find_chromium() -> str | None:
    """Path of Debian's chromium (CI installs it), or None when absent."""
    override = os.environ.get("CHROMIUM_PATH")
    if override:
        return override if Path(override).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class Chromium:
    """One headless chromium process driven through its DevTools pipe."""

    def __init__(self, executable: str, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._buffer = b""
        self._profile = tempfile.TemporaryDirectory(prefix="wif-chromium-")
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_pipes():
            # Move both ends above fd 4 first: a pipe end may itself be fd 3
            # or 4, and dup2 onto the same fd would keep it close-on-exec.
            reader = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            writer = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        self._process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # close_fds would also close the fds 3 and 4 made by wire_pipes;
            # os.pipe() fds are non-inheritable, so only those two cross exec.
            close_fds=False,
            preexec_fn=wire_pipes,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def open(self, url: str, width: int = 1280, height: int = 900) -> Page:
        """A new tab showing `url`, once its load event has fired."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.resize(width, height)
        page.navigate(url)
        return page

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def wait_for_event(self, method: str, session: str) -> dict:
        while True:
            message = self._read_message()
            if message.get("method") == method and message.get("sessionId") == session:
                return message.get("params", {})

    def _read_message(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed its DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.send("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()


class Page:
    """One tab of a `Chromium`."""

    def __init__(self, browser: Chromium, session: str):
        self._browser = browser
        self._session = session

    def send(self, method: str, params: dict | None = None) -> dict:
        return self._browser.send(method, params, session=self._session)

    def resize(self, width: int, height: int, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def navigate(self, url: str) -> None:
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise BrowserError(f"cannot open {url}: {answer['errorText']}")
        self.wait_for_load()

    def wait_for_load(self) -> None:
        """Block until the page fires its load event (after a navigation or a form submit)."""
        self._browser.wait_for_event("Page.loadEventFired", self._session)

    def evaluate(self, expression: str):
        """Value of a JavaScript expression (JSON-serialisable results only)."""
        answer = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"JavaScript error: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page by default) and return its path."""
        params = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def evaluate(url: str, expression: str, width: int = 1280, height: int = 900):
    """One-shot: open `url` in a fresh headless chromium and evaluate `expression`."""
    with _start() as chromium:
        return chromium.open(url, width, height).evaluate(expression)


def screenshot(url: str, path: Path, width: int = 1280, height: int = 900) -> Path:
    """One-shot: open `url` in a fresh headless chromium and save a full-page PNG."""
    with _start() as chromium:
        return chromium.open(url, width, height).screenshot(path)


def _start() -> Chromium:
    executable = find_chromium()
    if executable is None:
        raise BrowserError("chromium not found: apt-get install -y chromium")
    return Chromium(executable)


@pytest.fixture
def browser():
    """A running headless chromium; the test is skipped when chromium is absent."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    with Chromium(executable) as chromium:
        yield chromium
