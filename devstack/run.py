"""`make run`: the whole shop on this machine, stopped with Ctrl-C.

Starts (or joins) the embedded PostgreSQL, creates the `shop` database on first run, applies
sql/ and devstack/sql/, keeps a dev signing key under .data/, starts each function under
functions-framework on its own port (one process per function, as in production) and the
gateway (Supabase's local stand-in and the frontend) on 127.0.0.1:54321, writes
frontend/config.js, and prints the URL and a demo account.

Ports: DEVSTACK_GATEWAY_PORT (54321) and DEVSTACK_FUNCTIONS_PORT (8081: the first function's;
the others follow in the order of functions/registry.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import uuid

from devstack import database, devkeys, stack
from devstack.gateway import users
from functions import registry

DATABASE_NAME = "shop"
KEY_FILE = database.DATA_DIR / "dev-signing-key.json"
CONFIG_FILE = stack.FRONTEND_DIR / "config.js"
DEMO_USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo-password"


def prepare_database() -> str:
    """The dev database URL, created and migrated; DATABASE_URL is used as it is when set."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
    else:
        server = database.server_url()
        if not database.database_exists(server, DATABASE_NAME):
            database.create_database(server, DATABASE_NAME)
        url = database.with_database(server, DATABASE_NAME)
    stack.apply_sql(url)
    return url


def configured_ports() -> tuple[int, dict[str, int], dict[str, int]]:
    """The gateway's port, the routed functions' ports, and the scheduled jobs' (the next ones)."""
    gateway = int(os.environ.get("DEVSTACK_GATEWAY_PORT") or 54321)
    first = int(os.environ.get("DEVSTACK_FUNCTIONS_PORT") or 8081)
    ports = {f.name: first + i for i, f in enumerate(registry.FUNCTIONS)}
    routed = {f.name: ports[f.name] for f in registry.COMMANDS}
    return gateway, routed, {f.name: ports[f.name] for f in registry.JOBS}


def ensure_demo_user(running: stack.LocalStack) -> None:
    with contextlib.suppress(users.SignUpRefused):  # made by an earlier run
        users.create(running.engine, DEMO_EMAIL, DEMO_PASSWORD, {}, user_id=DEMO_USER)


def print_usage(running: stack.LocalStack) -> None:
    issuer = f"{running.url}/auth/v1"
    token = devkeys.mint_token(running.private_jwk, DEMO_USER, DEMO_EMAIL, iss=issuer)
    commands = ", ".join(f"{name} :{port}" for name, port in running.function_ports.items())
    jobs = ", ".join(f"{name} :{port}" for name, port in running.scheduled_ports.items())
    auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
    print(
        f"""
The shop is up:  {running.url}/

  Demo account:  {DEMO_EMAIL} / {DEMO_PASSWORD}   (or create your own on the page)

Supabase stand-in: {running.url}/rest/v1, /auth/v1, /functions/v1 (anon key in frontend/config.js)
Functions: {commands}; every minute: {jobs}.
A token for the demo user (valid 1 h):

  TOKEN={token}
  curl -s {auth} -d '{{"product_id": 1, "quantity": 2}}' {running.url}/functions/v1/add-item

Ctrl-C stops everything.""",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the local shop.")
    parser.add_argument("--only-db", action="store_true", help="apply the SQL and exit")
    args = parser.parse_args()
    url = prepare_database()
    if args.only_db:
        print(f"sql/ and devstack/sql/ applied to {url}")
        return
    gateway_port, function_ports, scheduled_ports = configured_ports()
    jwk = devkeys.load_or_create(KEY_FILE)
    try:
        with stack.LocalStack(
            url, jwk, gateway_port, function_ports, scheduled_ports=scheduled_ports
        ) as running:
            CONFIG_FILE.write_text(running.config_script())
            ensure_demo_user(running)
            print_usage(running)
            signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
