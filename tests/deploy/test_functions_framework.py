"""functions-framework itself serves a function's main.py as it is: no decorator is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.support import ROOT, free_port


def test_functions_framework_still_serves_the_undecorated_target(database_url):
    """No @functions_framework.http: "http" is its default signature type."""
    port = free_port()
    source = ROOT / "functions" / "add_item" / "main.py"
    command = [sys.executable, "-m", "functions_framework", "--target=add_item"]
    command += [f"--source={source}", "--host=127.0.0.1", f"--port={port}"]
    server = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}")
            try:
                urllib.request.urlopen(request, timeout=2)
            except urllib.error.HTTPError as error:
                answered = error  # the name bound by `as` is gone after the block
                break
            except OSError:
                assert time.monotonic() < deadline, "functions-framework did not start"
                time.sleep(0.2)
        assert answered.code == 401
        assert json.loads(answered.read())["error"]["code"] == "unauthorized"
    finally:
        server.terminate()
        server.wait(timeout=10)
