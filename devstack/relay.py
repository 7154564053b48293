"""`make relay`: run relay-outbox once against the development database.

With ORDER_EVENTS_QUEUE_URL unset (the local default) pending OrderPlaced events are only logged
and stay in the outbox; with it set, they are sent to that queue.
"""

from __future__ import annotations

import json
import os

from devstack import run


def main() -> None:
    os.environ["DATABASE_URL"] = run.prepare_database()
    from shared import logs, order_events  # after DATABASE_URL is known: settings are cached
    from shared.config import log_level

    logs.configure(log_level())
    print(json.dumps(order_events.relay_pending()))


if __name__ == "__main__":
    main()
