"""A real headless Chromium (Debian's, which `make test` installs) driving the shop.

Playwright for Python drives /usr/bin/chromium directly: `playwright install` downloads a browser
of its own and cannot work here. Every page fails its test on an uncaught script error, on any
`alert`/`confirm` dialog (which is what an XSS payload would open) and on anything the
Content-Security-Policy blocked.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}


def watch_for_problems(page: Page, problems: list[str]) -> None:
    """Collect the page's uncaught errors and whatever the gateway's Content-Security-Policy
    blocks (a bug of the policy or of the page), for the test to assert none happened."""
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"blocked: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )


PHONE = {"width": 390, "height": 844}
FUNCTION_PATH = re.compile(r"/functions/v1/(add-item|remove-item|checkout)$")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Shop:
    """The shop as a person uses it, in one browser context (one person's browser)."""

    def __init__(self, page: Page, url: str):
        self.page, self.url = page, url
        self.writes: list[dict] = []  # every request to a function, with its headers
        self.in_flight: set = set()  # requests sent and not yet finished or failed
        page.on("request", self._record_write)
        page.on("request", lambda request: self.in_flight.add(request))
        page.on("requestfinished", lambda request: self.in_flight.discard(request))
        page.on("requestfailed", lambda request: self.in_flight.discard(request))

    def _record_write(self, request) -> None:
        if request.method == "POST" and FUNCTION_PATH.search(request.url):
            self.writes.append({"url": request.url, "headers": request.headers})

    def open(self) -> Shop:
        self.page.goto(self.url + "/")
        expect(self.page.locator("#product-grid .card").first).to_be_visible()
        return self

    def sign_up(self) -> str:
        email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        self.page.click("#hero-sign-up")
        self.page.fill("#auth-email", email)
        self.page.fill("#auth-password", "a-good-password")
        self.page.click("#auth-submit")
        expect(self.page.locator("#account-email")).to_have_text(email)
        return email

    @contextlib.contextmanager
    def holding_reads(self, view: str):
        """The page's reads of `view` wait until the block ends, then go on as sent: the page
        keeps showing what it last read while the test changes the database behind it. Reads
        sent before are let finish first, so none of them can bring the change in either."""
        held, holding = [], [True]
        pattern = re.compile(rf"/rest/v1/{re.escape(view)}\b")

        def hold(route) -> None:
            if holding:
                held.append(route)
            else:
                route.continue_()

        self.page.route(pattern, hold)
        try:
            self.page.wait_for_timeout(100)  # the events of requests sent just before the route
            earlier = {r for r in self.in_flight if pattern.search(r.url)}
            while earlier & self.in_flight:
                self.page.wait_for_timeout(50)
            yield
        finally:
            holding.clear()
            for route in held:
                route.continue_()
            self.page.unroute(pattern, hold)

    def card(self, product_id: int):
        return self.page.locator(f"#product-grid .card[data-product-id='{product_id}']")

    def stock(self, product_id: int) -> str:
        return self.card(product_id).locator(".stock").inner_text()

    def cart_count(self):
        return self.page.locator("#cart-count")

    def add(self, product_id: int, expect_count: int | None = None) -> None:
        button = self.card(product_id).get_by_role("button", name=re.compile("^Add "))
        with self.page.expect_response(FUNCTION_PATH):
            button.click()
        if expect_count is not None:
            expect(self.cart_count()).to_have_text(str(expect_count))

    def open_cart(self):
        self.page.click("#cart-button")
        drawer = self.page.locator("#cart")
        expect(drawer).to_have_attribute("aria-hidden", "false")
        # Done sliding in (a transform transition), so screenshots show it where it stays.
        self.page.wait_for_function(
            "() => getComputedStyle(document.getElementById('cart')).transform === 'none'"
        )
        return drawer

    def cart_line(self, product_id: int):
        return self.page.locator(f"#cart .line[data-product-id='{product_id}']")


@pytest.fixture
def open_shop(browser, local_stack):
    """`open_shop(viewport=DESKTOP)` -> a Shop in a fresh browser context (its own storage)."""
    contexts, problems = [], []

    def make(viewport: dict = DESKTOP) -> Shop:
        context = browser.new_context(viewport=viewport, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        watch_for_problems(page, problems)
        page.on(
            "dialog",
            lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()),
        )
        return Shop(page, local_stack.url).open()

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def screenshot(shop: Shop, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    shop.page.screenshot(path=str(path), full_page=full_page)
    return path
