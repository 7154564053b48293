"""The reliability schema: re-runnable, hidden from the API roles, expiry last in my_cart."""

import pytest
from sqlalchemy.exc import ProgrammingError

from devstack import database
from tests.support import as_role


def test_the_sql_files_can_be_applied_again(database_url, admin):
    assert "14_idempotency_keys.sql" in database.apply_sql(database_url)
    columns = admin.rows(
        "select column_name from information_schema.columns"
        " where table_name = 'my_cart' order by ordinal_position"
    )
    # CREATE OR REPLACE VIEW can only append: the expiry is the last column.
    assert columns[-1][0] == "expires_at"


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_idempotency_keys_are_invisible_to_the_api_roles(admin, role):
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(admin, role, "11111111-1111-4111-8111-111111111111")(
            "select * from idempotency_keys"
        )
