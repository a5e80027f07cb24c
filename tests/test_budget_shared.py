"""One request budget per token, shared by sync and push: sync goes first."""

import threading
import time

from connector.ratelimit import PUSH, SYNC, RequestBudget
from core.settings import PushSettings
from tests.push_helpers import Crash, CrashAfter, make_pusher
from tests.sync_helpers import make_syncer


def test_sync_is_served_while_a_long_push_runs_on_the_same_budget(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=120, seed=5)
    budget = RequestBudget(30, 1.0)  # 30 requests a second for the token
    syncer = make_syncer(ds_client_for(server, budget=budget), sessions, page_size=20)
    syncer.sync(1)
    push_client = ds_client_for(server, budget=budget, priority=PUSH)
    stop = threading.Event()

    # One mutation a request: a long push, stopped once the test has seen what it needs.
    pusher = make_pusher(push_client, sessions, policy=PushSettings(batch_size=1), progress=CrashAfter(0, stop.is_set))
    failures = []

    def run_push():
        try:
            pusher.push(1)
        except Crash:
            pass
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    pushing = threading.Thread(target=run_push)
    pushing.start()
    try:
        deadline = time.monotonic() + 20
        while budget.granted[PUSH] < 40 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the push has filled its share of the window, and more
        assert budget.granted[PUSH] >= 40
        changed = server.store.visible_dossiers(1)[0].number
        server.store.modify(changed, emploi_intitule="Serveur")
        waited_before = budget.waited[SYNC]
        summary = make_syncer(ds_client_for(server, budget=budget), sessions, page_size=20).sync(1, force_rescan=True)
        assert pushing.is_alive()  # the push was still running all along
    finally:
        stop.set()
        pushing.join(timeout=30)
    assert failures == []
    assert changed in summary.dossier_numbers
    # Each sync request found room at once (the reserve) or took the next free slot before push.
    assert budget.waited[SYNC] - waited_before < 0.25 * summary.requests
    assert budget.waited[PUSH] > 0  # push was held back by the budget, sync was not


def test_push_alone_never_takes_the_sync_reserve():
    now = [0.0]
    budget = RequestBudget(10, 60, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for _ in range(9):
        budget.acquire(PUSH)
    assert now[0] == 0.0
    budget.acquire(SYNC)  # the reserve
    assert now[0] == 0.0
    budget.acquire(PUSH)  # the window is full for push: waits for the oldest to leave
    assert now[0] >= 60.0


def most_in_any_window(moments: list[float], seconds: float) -> int:
    """The largest number of `moments` inside one window [t, t + seconds), t anywhere."""
    moments, most, start = sorted(moments), 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_the_budget_holds_in_any_window_of_arrivals_at_ds_however_late_each_request_arrives():
    """Issue #21 item 7: 401 requests in one sliding minute. DS counts a request when it arrives, anywhere
    between the moment it leaves and its answer; here each answer takes 0 to 200 ms and arrives at a random
    moment of it, on a fake clock (2,000 requests, about five minutes at the budget's pace)."""
    import random

    rng = random.Random(21)
    now = [0.0]
    budget = RequestBudget(400, 60, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    arrivals = []
    for _ in range(2000):
        with budget.request(SYNC):
            sent, duration = now[0], rng.uniform(0, 0.2)
            arrivals.append(sent + rng.uniform(0, duration))
            now[0] += duration
    assert most_in_any_window(arrivals, 60) <= 400
    # And it still uses the budget: 2,000 requests in about five windows, not far more.
    assert now[0] < 5 * 60.2
