"""Statistical disclosure control: primary and complementary cell suppression.

Primary: a count under THRESHOLD dossiers (zero included, as the rule reads
"under 5") is never published. Complementary: a published total and the
other cells of an additive relation (a row that sums to its total, a column
that sums to the national figure) would let anyone recompute a lone hidden
cell, so while a relation has exactly one hidden cell another cell of that
relation is hidden too. Which one: the cell readers miss least (`cost`: a
« classé sans suite » before a month's deposits, a group nobody looks for
before a named one, never a national total when it can be helped), then the
one that leaves no other relation with a lone hidden cell, then the smallest.
Cells already published elsewhere (`fixed`, e.g. the national totals) are
never chosen. Why and how: docs/stats-disclosure.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Set
from typing import TypeVar

from core.disclosure import SMALL_COUNT_THRESHOLD

THRESHOLD = SMALL_COUNT_THRESHOLD

# A cell of the caller's tables, e.g. (table, row, measure).
Cell = TypeVar("Cell", bound=Hashable)


def primary(counts: Mapping[Cell, int], threshold: int = THRESHOLD) -> set[Cell]:
    return {cell for cell, count in counts.items() if count < threshold}


def _no_cost(cell: Hashable) -> int:
    return 0


def complementary(
    counts: Mapping[Cell, int],
    relations: Iterable[list[Cell]],
    hidden: Set[Cell],
    fixed: Set[Cell] = frozenset(),
    cost: Callable[[Cell], float] = _no_cost,
) -> set[Cell]:
    """Hidden cells once no relation has a single hidden cell left (when it can be helped)."""
    relations = [relation for relation in relations if len(relation) > 1]
    member_of: dict[Cell, list[int]] = defaultdict(list)
    for index, relation in enumerate(relations):
        for cell in relation:
            member_of[cell].append(index)
    hidden = set(hidden)
    hidden_in = [sum(cell in hidden for cell in relation) for relation in relations]

    def score(cell: Cell, relation: int) -> tuple:
        others = [other for other in member_of[cell] if other != relation]
        # Hiding it leaves a relation with a lone hidden cell (more to hide), or protects one more (fewer).
        opened = sum(hidden_in[other] == 0 for other in others)
        closed = sum(hidden_in[other] == 1 for other in others)
        return cost(cell), opened - closed, counts[cell], repr(cell)

    changed = True
    while changed:
        changed = False
        for index, relation in enumerate(relations):
            if hidden_in[index] != 1:
                continue
            candidates = [cell for cell in relation if cell not in hidden and cell not in fixed]
            if not candidates:
                continue
            chosen = min(candidates, key=lambda cell: score(cell, index))
            hidden.add(chosen)
            for other in member_of[chosen]:
                hidden_in[other] += 1
            changed = True
    return hidden


def suppress(
    counts: Mapping[Cell, int],
    relations: Iterable[list[Cell]],
    fixed_hidden: Set[Cell] = frozenset(),
    fixed: Set[Cell] = frozenset(),
    threshold: int = THRESHOLD,
    cost: Callable[[Cell], float] = _no_cost,
) -> set[Cell]:
    """All cells to hide: primary ones, the `fixed_hidden` margins, and complements."""
    hidden = primary({cell: count for cell, count in counts.items() if cell not in fixed}, threshold)
    return complementary(counts, relations, hidden | set(fixed_hidden), fixed, cost)
