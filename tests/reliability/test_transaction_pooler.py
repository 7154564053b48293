"""The transaction-pooler setting, proved against a real transaction-mode pooler (pgbouncer).

The command suites' concurrency and error-table modules run whole through it as well (the
`connection_mode` fixture); these tests show why the setting exists and that it holds.
"""

import pg8000.legacy
import pytest
from sqlalchemy.engine import make_url

from shared.adapters.postgres import connection as db
from tests.support import post


def connect(url):
    u = make_url(url)
    connection = pg8000.legacy.Connection(u.username, host=u.host, port=u.port, database=u.database)
    connection.autocommit = True
    return connection


def test_named_prepared_statements_break_behind_it(pgbouncer):
    """The pooler is really in transaction mode: a session's prepared statement does not follow."""
    first, second = connect(pgbouncer.url), connect(pgbouncer.url)
    try:
        statement = first.prepare("select cast(:n as integer) + 1")
        assert statement.run(n=1) == ([2],)
        # Another client holds the server connection the statement was prepared on ...
        second.run("begin")
        second.run("select 1")
        # ... so the next transaction of the first client runs on another one.
        with pytest.raises(pg8000.dbapi.DatabaseError, match="does not exist"):
            statement.run(n=1)
    finally:
        second.run("rollback")
        first.close()
        second.close()


def test_commands_leave_no_session_state_behind(pgbouncer, client, new_user, admin, env):
    """SET LOCAL timeouts end with the transaction: the server connection goes back clean."""
    env(DATABASE_URL=pgbouncer.url, DB_PREPARED_STATEMENTS="off", DB_LOCK_TIMEOUT_MS="1234")
    product = admin.create_product(stock=5)
    _, token = new_user()
    for name, body in [("add_item", {"product_id": product}), ("checkout", {})]:
        assert post(client(name), token, body).status_code == 200
    assert db.use_prepared_statements(db.engine().url) is False
    observer = connect(pgbouncer.url)
    try:
        # Whatever server connection we get, no command's timeout stuck to it.
        assert observer.run("show lock_timeout") == (["0"],)
    finally:
        observer.close()
