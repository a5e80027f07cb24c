"""Why a push stops as a whole."""
from __future__ import annotations


class PushStopped(RuntimeError):
    """Push cannot go on at all (a read-only token, an instructeur of no groupe): reported once, nothing retried."""
