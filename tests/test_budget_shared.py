"""One request budget per token, shared by sync and push: sync goes first."""
import threading
import time

from connector.ratelimit import PUSH, SYNC, RequestBudget
from tests.sync_helpers import make_syncer
from core.settings import PushSettings
from tests.push_helpers import Crash, CrashAfter, make_pusher


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
