"""`make relay`: run relay-outbox once against the development database.

With ORDER_EVENTS_QUEUE_URL unset (the local default) pending OrderPlaced events are only logged
and stay in the outbox; with it set, they are sent to that queue.
"""

from __future__ import annotations

import json
import os

from devstack import database, run


def main() -> None:
    os.environ["DATABASE_URL"] = database.functions_url(run.prepare_database())
    from shared import bootstrap, logs  # after DATABASE_URL is known: settings are cached
    from shared.config import log_level, settings
    from shared.service import relay_outbox

    logs.configure(log_level())
    publisher, batch_size = bootstrap.order_events(), settings().outbox_batch_size
    print(json.dumps(relay_outbox.relay_pending(bootstrap.unit_of_work(), publisher, batch_size)))


if __name__ == "__main__":
    main()
