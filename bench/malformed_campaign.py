"""The malformed-values campaign (issue #21, item 9): N dossiers built from the complete fixture, each with one
to three defects on different champs drawn from the catalogue of tests/test_mapping_defects.py, run through
the real mapping, routing and checks (no network, no database). Prints how many came out « Complet » (the
defects not seen), by defect kind, and how many defects no issue named.

    python bench/malformed_campaign.py --n 1000 --seed 21
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mappings import checks  # noqa: E402
from tests.sync_helpers import evaluator as evaluator_for  # noqa: E402
from tests.test_mapping_defects import DEFECTS, issues_naming, with_defects  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    rng, names, evaluator = random.Random(args.seed), sorted(DEFECTS), evaluator_for()
    complete, unnamed, drawn_kinds, statuses = Counter(), Counter(), Counter(), Counter()
    started = time.process_time()
    for _ in range(args.n):
        drawn: list[str] = []
        for name in rng.sample(names, rng.randint(1, 3)):
            if DEFECTS[name].key not in {DEFECTS[d].key for d in drawn}:
                drawn.append(name)
        drawn_kinds.update(drawn)
        evaluation = evaluator.evaluate(with_defects(*drawn))
        statuses[evaluation.status] += 1
        if evaluation.status == checks.COMPLET:
            complete.update(drawn)
        unnamed.update(name for name in drawn if not issues_naming(evaluation, DEFECTS[name].key))
    seconds = time.process_time() - started
    print(
        f"{args.n} dossiers, {len(DEFECTS)} defect kinds, {sum(drawn_kinds.values())} defects, "
        f"{seconds / args.n * 1000:.1f} ms CPU per dossier"
    )
    print("statuses: " + ", ".join(f"{status} {count}" for status, count in statuses.most_common()))
    print(f"« Complet » despite a defect: {statuses[checks.COMPLET]}")
    for name, count in complete.most_common():
        print(f"  {count:4d} with {name} (drawn {drawn_kinds[name]})")
    print(f"defects no issue named: {sum(unnamed.values())}")
    for name, count in unnamed.most_common():
        print(f"  {count:4d} {name}")


if __name__ == "__main__":
    main()
