"""Push the connector's results back to DS, exactly once, in few requests.

1. Plan (`planning`): every mutation a dossier needs is written to
   `push_outbox` (`pending`) and committed; a pending row the dossier no
   longer needs is `superseded`.
2. Deliver (`delivery`): due rows travel many to a request (aliased root
   fields, `connector.batch`), in dossier order, the groupe change first. Rows
   are marked `sending` and committed before the request leaves; each alias's
   result then settles its own row.
3. A circuit breaker stands between 1 and 2 (`pusher`): a run that would
   message more than a share of the dossiers it considers
   (WIF_PUSH_MAX_MESSAGE_SHARE) sends nothing at all until it is forced
   (`hold_messages_share`).
4. A request whose answer is lost (network, 5xx, a kill before recording)
   leaves its rows `sending`: *uncertain* (`settling`). Before any of them is
   sent again, the dossier is read back from DS (`getDossier`): a message is
   looked for among the dossier's messages, labels, groupe, annotations and
   state are compared. Rows a previous run left `sending` are settled the same
   way at the start of the next run.

`intents` is the pure difference between what a dossier should show and what
DS shows; `kinds` all push knows of each kind of mutation, one row each; `live`
what push needs of the démarche; `outbox` the rows' moves; `run` what one
démarche's push shares while it runs.
"""

from connector.push.errors import PushStopped
from connector.push.intents import Current, Intent, Target, plan
from connector.push.kinds import KINDS, Kind
from connector.push.live import LiveDemarche, PushBinding, PushDefinition, read_live
from connector.push.planning import current_state
from connector.push.pusher import Pusher, PushPlan
from connector.push.run import PushProgress
from connector.push.summary import PushSummary

__all__ = [
    "KINDS",
    "Current",
    "Intent",
    "Kind",
    "LiveDemarche",
    "PushBinding",
    "PushDefinition",
    "PushPlan",
    "PushProgress",
    "PushStopped",
    "PushSummary",
    "Pusher",
    "Target",
    "current_state",
    "plan",
    "read_live",
]
