"""Statistical disclosure control: primary and complementary cell suppression.

Primary: a count under THRESHOLD dossiers (zero included, as the rule reads
"under 5") is never published. Complementary: a published total and the
other cells of an additive relation (a row that sums to its total, a column
that sums to the national figure) would let anyone recompute a lone hidden
cell, so while a relation has exactly one hidden cell the smallest visible
cell of that relation is hidden too. Cells already published elsewhere
(`fixed`, e.g. the national totals) are never chosen.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from core.disclosure import SMALL_COUNT_THRESHOLD

THRESHOLD = SMALL_COUNT_THRESHOLD

Cell = Hashable


def primary(counts: Mapping[Cell, int], threshold: int = THRESHOLD) -> set[Cell]:
    return {cell for cell, count in counts.items() if count < threshold}


def complementary(
    counts: Mapping[Cell, int],
    relations: Iterable[list[Cell]],
    hidden: set[Cell],
    fixed: frozenset[Cell] = frozenset(),
) -> set[Cell]:
    """Hidden cells once no relation has a single hidden cell left (when it can be helped)."""
    relations = [relation for relation in relations if len(relation) > 1]
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for relation in relations:
            if sum(cell in hidden for cell in relation) != 1:
                continue
            candidates = [cell for cell in relation if cell not in hidden and cell not in fixed]
            if candidates:
                hidden.add(min(candidates, key=lambda cell: (counts[cell], repr(cell))))
                changed = True
    return hidden


def suppress(
    counts: Mapping[Cell, int],
    relations: Iterable[list[Cell]],
    fixed_hidden: set[Cell] = frozenset(),
    fixed: frozenset[Cell] = frozenset(),
    threshold: int = THRESHOLD,
) -> set[Cell]:
    """All cells to hide: primary ones, the `fixed_hidden` margins, and complements."""
    hidden = primary({cell: count for cell, count in counts.items() if cell not in fixed}, threshold)
    return complementary(counts, relations, hidden | set(fixed_hidden), fixed)
