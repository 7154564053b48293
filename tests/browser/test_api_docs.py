"""The API reference at /functions/v1/docs, rendered by a real Chromium from local files only."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, watch_for_problems
from tests.support import ARTIFACTS


def test_the_reference_shows_every_command_without_leaving_the_origin(browser, local_stack):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems, foreign = [], []
    watch_for_problems(page, problems)
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(local_stack.url) else foreign.append(request.url)
        ),
    )
    try:
        page.goto(local_stack.url + "/functions/v1/docs")
        for operation in ("add_item", "remove_item", "checkout"):
            expect(page.locator(f"#operations-commands-{operation}")).to_be_visible()
        expect(page.locator("#operations-internal-release_expired_carts")).to_be_visible()
        page.click("#operations-commands-add_item .opblock-summary")
        responses = page.locator("#operations-commands-add_item .responses-table")
        expect(responses.first).to_contain_text("insufficient_stock")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    finally:
        context.close()
    assert problems == [] and foreign == []
