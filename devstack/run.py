"""`make run`: the whole write side on this machine, stopped with Ctrl-C.

Starts (or joins) the embedded PostgreSQL, creates the `shop` database on first run, applies
sql/, keeps a dev signing key under .data/, starts each function under functions-framework on
its own port (one process per function, as in production) and prints curl commands.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

from devstack import database
from shared import devkeys

DATABASE_NAME = "shop"
HOST = "127.0.0.1"
FUNCTION_PORTS = {"add_item": 8081, "remove_item": 8082, "checkout": 8083}
KEY_FILE = database.DATA_DIR / "dev-signing-key.json"
DEMO_USER = uuid.UUID("00000000-0000-4000-8000-000000000001")


def prepare_database() -> str:
    """The dev database URL, created and migrated; DATABASE_URL is used as it is when set."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
    else:
        server = database.server_url()
        if not database.database_exists(server, DATABASE_NAME):
            database.create_database(server, DATABASE_NAME)
        url = database.with_database(server, DATABASE_NAME)
    database.apply_sql(url)
    return url


def function_env(url: str, jwk: dict) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_JWKS": json.dumps(devkeys.public_jwks(jwk)),
        "ALLOWED_ORIGINS": os.environ.get("ALLOWED_ORIGINS", f"http://{HOST}:54321"),
        "PYTHONPATH": str(database.ROOT),
    }


def start_functions(env: dict) -> list[subprocess.Popen]:
    processes = []
    for name, port in FUNCTION_PORTS.items():
        source = database.ROOT / "functions" / name / "main.py"
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "functions_framework",
                    f"--target={name}",
                    f"--source={source}",
                    f"--host={HOST}",
                    f"--port={port}",
                ],
                env=env,
            )
        )
    return processes


def wait_until_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered (405 for GET): it is up
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {HOST}:{port}")


def print_usage(token: str) -> None:
    auth = f'-H "Authorization: Bearer {token}" -H "Content-Type: application/json"'
    add, remove, checkout = (FUNCTION_PORTS[n] for n in FUNCTION_PORTS)
    print(
        f"""
The shop's write side is up. A dev token for user {DEMO_USER} (valid 1 h):

  TOKEN={token}

  curl -s {auth.replace(token, '$TOKEN')} -d '{{"product_id": 1, "quantity": 2}}' http://{HOST}:{add}/
  curl -s {auth.replace(token, '$TOKEN')} -d '{{"product_id": 1, "quantity": 1}}' http://{HOST}:{remove}/
  curl -s {auth.replace(token, '$TOKEN')} -d '{{}}' http://{HOST}:{checkout}/

Ctrl-C stops everything.""",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the local shop.")
    parser.add_argument("--only-db", action="store_true", help="apply sql/ and exit")
    args = parser.parse_args()
    url = prepare_database()
    if args.only_db:
        print(f"sql/ applied to {url}")
        return
    jwk = devkeys.load_or_create(KEY_FILE)
    processes = start_functions(function_env(url, jwk))
    try:
        for port in FUNCTION_PORTS.values():
            wait_until_listening(port)
        print_usage(devkeys.mint_token(jwk, DEMO_USER, "demo@example.com"))
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
