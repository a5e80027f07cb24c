"""Small-count suppression: the one threshold every published figure obeys.

The stats page hides a cell counting fewer dossiers (stats.suppression); the
expected decision delay in the e-mails, the agents' annotation and the stats
page is not given when fewer decisions support it. One figure for all.
"""

from __future__ import annotations

SMALL_COUNT_THRESHOLD = 5
