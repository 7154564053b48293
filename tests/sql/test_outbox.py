"""The outbox table: invisible to the API roles, and its SQL file can run again."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from devstack import database


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_api_roles_cannot_touch_the_outbox(admin, role):
    claims = json.dumps({"sub": "00000000-0000-4000-8000-000000000001", "role": role})
    transactional = admin.engine.execution_options(isolation_level="READ COMMITTED")
    with (
        transactional.connect() as conn,
        pytest.raises(ProgrammingError, match="permission denied"),
        conn.begin(),
    ):
        conn.execute(text(f"set local role {role}"))
        conn.execute(text("select set_config('request.jwt.claims', :c, true)"), {"c": claims})
        conn.execute(text("select * from outbox"))
    assert admin.scalar("select relrowsecurity from pg_class where oid = 'public.outbox'::regclass")


def test_the_sql_files_can_run_again(database_url):
    assert "40_outbox.sql" in database.apply_sql(database_url)
