"""The pages the gateway serves carry the security headers a static host must send too."""

import urllib.error
import urllib.request

import pytest

from devstack.gateway import frontend

PAGES = [
    "/",
    "/index.html",
    "/app.js",
    "/style.css",
    "/config.js",
    "/node_modules/@supabase/supabase-js/dist/umd/supabase.js",
    "/no-such-page.html",
]


def _headers(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in policy.split(";") if directive.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_forbids_framing_sniffing_and_foreign_scripts(local_stack, path):
    status, headers = _headers(local_stack.url + path)
    assert status == (404 if "no-such" in path else 200)
    policy = _directives(headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_the_page_may_call_only_its_own_origin(local_stack):
    """supabase-js and the functions are reached at the gateway's origin, so 'self' is all."""
    policy = _directives(frontend.CONTENT_SECURITY_POLICY)
    assert policy["connect-src"] == ["'self'"]
    assert local_stack.config_script().count(local_stack.url) == 2  # supabaseUrl, functions
