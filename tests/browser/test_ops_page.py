"""/ops in a real Chromium: the functions' figures, live, while requests arrive."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

from devstack import devkeys
from tests.browser.conftest import DESKTOP, watch_for_problems
from tests.support import ARTIFACTS

ADD_ITEM = 'tr[data-function="add_item"]'


def _add(stack_url: str, token: str, product: int) -> int:
    request = urllib.request.Request(
        f"{stack_url}/functions/v1/add-item",
        data=json.dumps({"product_id": product}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _total(page) -> int:
    text = page.locator(f'{ADD_ITEM} [data-figure="total"]').inner_text()
    return 0 if text == "–" else int(text)


def test_the_page_follows_a_drop_as_it_happens(browser, local_stack, signing_key, admin, new_user):
    user, _ = new_user()
    token = devkeys.mint_token(signing_key, user, iss=f"{local_stack.url}/auth/v1")
    product = admin.create_product(stock=3)
    assert _add(local_stack.url, token, product) == 200  # so add_item has a row from the start
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = []
    watch_for_problems(page, problems)
    try:
        page.goto(local_stack.url + "/ops")
        expect(page.locator(ADD_ITEM)).to_be_visible()
        before = _total(page)
        statuses = [_add(local_stack.url, token, product) for _ in range(4)]
        assert statuses == [200, 200, 409, 409]  # the drop sells out
        # No reload: the page polls, and the new requests show up within a few seconds.
        page.wait_for_function(
            "([selector, want]) => Number(document.querySelector(selector).textContent) >= want",
            arg=[f'{ADD_ITEM} [data-figure="total"]', before + 4],
            timeout=15_000,
        )
        expect(page.locator('[data-outcome="add_item 409 insufficient_stock"]')).to_be_visible()
        expect(page.locator('[data-outcome="add_item 200 ok"]')).to_be_visible()
        p99 = page.locator(f'{ADD_ITEM} [data-figure="p99_ms"]').inner_text()
        assert float(p99) > 0
        assert page.locator(f'{ADD_ITEM} [data-figure="units_taken"]').inner_text() != "–"
        expect(page.locator("#status")).to_contain_text("Updated")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ops.png"), full_page=True)
    finally:
        context.close()
    assert problems == []


def test_the_page_carries_the_shop_s_security_headers(local_stack):
    for path in ("/ops", "/ops/ops.js", "/ops/ops.css", "/ops/figures.json"):
        with urllib.request.urlopen(local_stack.url + path, timeout=30) as response:
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
    try:
        urllib.request.urlopen(local_stack.url + "/ops/anything-else.js", timeout=30)
    except urllib.error.HTTPError as error:
        assert error.code == 404
    else:
        raise AssertionError("/ops serves only its own files")
