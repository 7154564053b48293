"""The local stack serves the document and its reference page, under the shop's headers."""

from __future__ import annotations

import json
import urllib.request

import pytest

from devstack.gateway import frontend
from functions import openapi


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read()


def test_the_document_is_served_as_checked_in(local_stack):
    status, headers, body = _get(local_stack.url + "/functions/v1/openapi.json")
    assert (status, headers.get_content_type()) == (200, "application/json")
    assert json.loads(body) == json.loads(openapi.DOCUMENT.read_text())


@pytest.mark.parametrize(
    "path",
    [
        "/functions/v1/docs",
        "/functions/v1/docs/api-docs.js",
        "/functions/v1/openapi.json",
        "/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        "/node_modules/swagger-ui-dist/swagger-ui.css",
    ],
)
def test_the_reference_page_comes_from_this_origin_with_the_shop_s_headers(local_stack, path):
    status, headers, body = _get(local_stack.url + path)
    assert status == 200 and body
    for name, value in frontend.SECURITY_HEADERS.items():
        assert headers[name] == value, name


def test_the_page_loads_its_renderer_from_node_modules_never_a_cdn(local_stack):
    _, _, page = _get(local_stack.url + "/functions/v1/docs")
    html = page.decode()
    assert 'src="/node_modules/swagger-ui-dist/swagger-ui-bundle.js"' in html
    assert "http://" not in html and "https://" not in html
    _, _, script = _get(local_stack.url + "/functions/v1/docs/api-docs.js")
    assert b'url: "/functions/v1/openapi.json"' in script
    assert b"validatorUrl: null" in script  # else it sends the document to validator.swagger.io


def test_a_function_named_like_the_pages_is_still_routed(local_stack):
    """`/functions/v1/<name>` forwards every other name to its function, as before."""
    request = urllib.request.Request(local_stack.url + "/functions/v1/no-such-function")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=30)
    assert missing.value.code == 404
    assert json.loads(missing.value.read())["error"]["code"] == "function_not_found"
