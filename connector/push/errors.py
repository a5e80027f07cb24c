"""Why a push stops as a whole."""

from __future__ import annotations

from core.errors import ExitCode, WifError


class PushStopped(WifError):
    """Push cannot go on at all (a read-only token, an instructeur of no groupe): reported once, nothing retried."""

    exit_code = ExitCode.PUSH_STOPPED
