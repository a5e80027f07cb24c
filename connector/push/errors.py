"""Why a push stops as a whole."""
from __future__ import annotations


class PushStopped(RuntimeError):
    """Push cannot go on at all (read-only token): reported once, nothing retried."""
