"""The shop in a real Chromium: the whole journey, isolation between users, XSS, errors."""

import re
import uuid

from playwright.sync_api import expect

from devstack import devkeys
from tests.browser.conftest import FUNCTION_PATH, PHONE, screenshot

ESPRESSO, KETTLE = 1, 2  # seeded by sql/90_seed.sql


def stock_number(text: str) -> int:
    found = re.search(r"\d+", text)
    return int(found.group()) if found else 0


def user_id(admin, email: str) -> str:
    return str(admin.scalar("select id from auth.users where email = :e", e=email))


def euros(cents: int) -> str:
    return f"€{cents // 100:,}.{cents % 100:02d}"


def check_out(shop) -> str:
    with shop.page.expect_response(FUNCTION_PATH) as answer:
        shop.page.click("#checkout")
    assert answer.value.status == 200, answer.value.text()
    confirmation = shop.page.locator("#confirmation")
    expect(confirmation).to_be_visible()
    return shop.page.locator("#confirmation-order-id").inner_text()


def test_sign_up_fill_the_cart_check_out_and_see_the_stock_drop(open_shop, admin):
    shop = open_shop()
    email = shop.sign_up()
    stock = {p: admin.stock(p) for p in (ESPRESSO, KETTLE)}
    price = {p: admin.scalar("select price_cents from products where id = :p", p=p) for p in stock}
    assert stock_number(shop.stock(ESPRESSO)) == stock[ESPRESSO]

    shop.add(ESPRESSO, expect_count=1)
    shop.add(ESPRESSO, expect_count=2)
    shop.add(KETTLE, expect_count=3)
    expect(shop.card(ESPRESSO).locator(".stock")).to_contain_text(str(stock[ESPRESSO] - 2))

    shop.open_cart()
    expect(shop.cart_line(ESPRESSO).locator(".qty-value")).to_have_text("2")
    expect(shop.cart_line(KETTLE).locator(".qty-value")).to_have_text("1")
    expect(shop.cart_line(ESPRESSO).locator(".line-total")).to_have_text(euros(2 * price[1]))
    expect(shop.page.locator("#cart-total")).to_have_text(euros(2 * price[1] + price[2]))
    # The reservation my_cart.expires_at grants (CART_TTL_MINUTES, 30 by default).
    expect(shop.page.locator("#cart-hold")).to_have_text(
        re.compile(r"Reserved for you for (29|30) more minutes")
    )
    screenshot(shop, "shop-cart.png")

    with shop.page.expect_response(FUNCTION_PATH):
        shop.cart_line(ESPRESSO).get_by_role("button", name=re.compile("^Remove one")).click()
    expect(shop.cart_line(ESPRESSO).locator(".qty-value")).to_have_text("1")
    expect(shop.cart_count()).to_have_text("2")

    order_id = check_out(shop)
    confirmation = shop.page.locator("#confirmation")
    expect(confirmation.locator(".order-lines li")).to_have_count(2)
    expect(confirmation).to_contain_text("1 × Espresso beans 1 kg")
    expect(confirmation).to_contain_text("1 × Pour-over kettle")
    expect(confirmation.locator(".order-total")).to_contain_text(euros(price[1] + price[2]))
    expect(shop.cart_count()).to_have_text("0")
    for product in (ESPRESSO, KETTLE):
        expect(shop.card(product).locator(".stock")).to_contain_text(str(stock[product] - 1))
        assert admin.stock(product) == stock[product] - 1
    expect(shop.page.locator("#order-list")).to_contain_text(order_id)
    screenshot(shop, "shop-confirmation.png")

    placed = admin.rows(
        "select o.user_id, oi.product_id, oi.quantity from orders o join order_items oi"
        " on oi.order_id = o.id where o.id = :id order by oi.product_id",
        id=order_id,
    )
    owner = uuid.UUID(user_id(admin, email))
    assert [tuple(r) for r in placed] == [(owner, ESPRESSO, 1), (owner, KETTLE, 1)]

    # Every write: the session's token, a fresh correlation id, a fresh idempotency key per click.
    assert [w["url"].rsplit("/", 1)[1] for w in shop.writes] == [
        "add-item",
        "add-item",
        "add-item",
        "remove-item",
        "checkout",
    ]
    headers = [w["headers"] for w in shop.writes]
    assert all(h["authorization"].startswith("Bearer ey") for h in headers)
    assert len({h["x-correlation-id"] for h in headers}) == 5
    assert len({h["idempotency-key"] for h in headers}) == 5


def test_a_second_user_sees_an_empty_cart_and_not_the_first_users_order(open_shop):
    first = open_shop()
    first.sign_up()
    first.add(3, expect_count=1)
    first.open_cart()
    order_id = check_out(first)
    first.add(4, expect_count=1)  # and something left in the first user's cart

    second = open_shop()
    second.sign_up()
    expect(second.cart_count()).to_have_text("0")
    expect(second.page.locator("#order-list")).to_contain_text("No orders yet")
    second.open_cart()
    expect(second.page.locator("#cart-body")).to_contain_text("Your cart is empty")
    expect(second.page.locator("#checkout")).to_be_disabled()
    assert order_id not in second.page.content()
    expect(first.page.locator("#order-list")).to_contain_text(order_id)


def test_a_product_named_like_html_shows_as_text(open_shop, admin):
    name = "<img src=x onerror=alert(1)>"
    description = "<script>alert(2)</script><b>bold</b>"
    product = admin.create_product(name=name, stock=5)
    admin.execute("update products set description = :d where id = :id", d=description, id=product)
    shop = open_shop()
    shop.sign_up()
    expect(shop.card(product).locator(".card-title")).to_have_text(name)
    expect(shop.card(product).locator(".card-text")).to_have_text(description)
    shop.add(product, expect_count=1)
    shop.open_cart()
    expect(shop.cart_line(product).locator(".line-name")).to_have_text(name)
    check_out(shop)
    expect(shop.page.locator("#confirmation")).to_contain_text(f"1 × {name}")
    expect(shop.page.locator("#order-list")).to_contain_text(name)
    # Nothing from the data became an element; the fixture also fails on any alert dialog.
    assert shop.page.locator("img, b, script:not([src])").count() == 0


def test_an_out_of_stock_add_shows_the_error_with_its_correlation_id(open_shop, admin):
    product = admin.create_product(stock=1, name="Last bag of Geisha")
    shop = open_shop()
    email = shop.sign_up()
    expect(shop.card(product).locator(".stock")).to_have_text("Only 1 left")
    # Sold elsewhere, while the page still shows the unit: a refresh landing in between would
    # disable the button before the click (it did once, on a slow host).
    with shop.holding_reads("product_catalog"):
        admin.execute("update products set stock = 0 where id = :id", id=product)
        with shop.page.expect_response(FUNCTION_PATH) as answer:
            shop.card(product).get_by_role("button", name=re.compile("^Add ")).click()
    response = answer.value
    assert response.status == 409
    correlation_id = response.headers["x-correlation-id"]
    assert correlation_id == response.request.headers["x-correlation-id"]

    notice = shop.page.get_by_role("alert").filter(has_text="Out of stock")
    expect(notice).to_contain_text(f"product {product} has 0 in stock, 1 requested")
    expect(notice.locator(".correlation-id")).to_have_text(correlation_id)
    expect(shop.card(product).locator(".stock")).to_have_text("Sold out")
    expect(shop.card(product).get_by_role("button")).to_be_disabled()
    screenshot(shop, "shop-out-of-stock.png")
    assert admin.in_cart(user_id(admin, email), product) == 0


def test_a_purchase_limit_is_shown_and_its_refusal_explained(open_shop, admin):
    product = admin.create_product(stock=10, name="Numbered print", max_per_customer=2)
    shop = open_shop()
    email = shop.sign_up()
    expect(shop.card(product).locator(".purchase-limit")).to_have_text("Limit 2 per customer")
    expect(shop.card(ESPRESSO).locator(".purchase-limit")).to_have_count(0)  # no limit: no line
    shop.add(product, expect_count=1)
    shop.add(product, expect_count=2)

    with shop.page.expect_response(FUNCTION_PATH) as answer:
        shop.card(product).get_by_role("button", name=re.compile("^Add ")).click()
    response = answer.value
    assert response.status == 409 and response.json()["error"]["code"] == "purchase_limit_reached"
    correlation_id = response.headers["x-correlation-id"]

    notice = shop.page.get_by_role("alert").filter(has_text="Purchase limit reached")
    expect(notice).to_contain_text(f"product {product} is limited to 2 per customer; you hold 2")
    expect(notice.locator(".correlation-id")).to_have_text(correlation_id)
    expect(shop.cart_count()).to_have_text("2")
    screenshot(shop, "shop-purchase-limit.png")
    assert admin.in_cart(user_id(admin, email), product) == 2


def test_every_waiting_button_shows_that_it_waits(open_shop):
    shop = open_shop()
    shop.sign_up()
    held = []
    shop.page.route(FUNCTION_PATH, lambda route: held.append(route))
    button = shop.card(ESPRESSO).locator("button")
    button.click()
    expect(button).to_have_text("Adding…")
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(button).to_have_text("Add to cart")
    expect(shop.cart_count()).to_have_text("1")
    shop.open_cart()
    shop.page.click("#checkout")
    expect(shop.page.locator("#checkout")).to_have_text("Placing order…")
    expect(shop.page.locator("#checkout")).to_be_disabled()
    held[1].continue_()
    expect(shop.page.locator("#confirmation")).to_be_visible()


def expire_the_stored_session(shop, admin, signing_key, email) -> None:
    """Swap in an expired access token; the stored session still claims to be fresh, so only
    the servers can tell (as when a laptop wakes up after the refresh was due)."""
    expired = devkeys.mint_token(signing_key, user_id(admin, email), email, ttl_seconds=-120)
    shop.page.evaluate(
        """(token) => {
             const key = Object.keys(localStorage).find((k) => k.endsWith("-auth-token"));
             const session = JSON.parse(localStorage.getItem(key));
             session.access_token = token;
             localStorage.setItem(key, JSON.stringify(session));
           }""",
        expired,
    )


def test_a_write_with_an_expired_session_asks_to_sign_in_again(open_shop, admin, signing_key):
    shop = open_shop()
    email = shop.sign_up()
    expire_the_stored_session(shop, admin, signing_key, email)
    with shop.page.expect_response(FUNCTION_PATH) as answer:
        shop.card(ESPRESSO).get_by_role("button", name=re.compile("^Add ")).click()
    assert answer.value.status == 401
    notice = shop.page.get_by_role("alert").filter(has_text="Please sign in again")
    expect(notice).to_contain_text("session expired, sign in again")
    expect(notice.locator(".correlation-id")).to_have_text(answer.value.headers["x-correlation-id"])
    expect(shop.page.locator("#auth-dialog")).to_be_visible()
    expect(shop.page.locator("#auth-hint")).to_contain_text("Sign in again")
    shop.page.fill("#auth-email", email)
    shop.page.fill("#auth-password", "a-good-password")
    shop.page.click("#auth-submit")
    expect(shop.page.locator("#account-email")).to_have_text(email)
    shop.add(ESPRESSO, expect_count=1)


def test_a_page_opened_with_an_expired_session_asks_to_sign_in_again(open_shop, admin, signing_key):
    shop = open_shop()
    email = shop.sign_up()
    expire_the_stored_session(shop, admin, signing_key, email)
    shop.open()  # products still show: after signing out, the page reads them as anon
    expect(shop.page.get_by_role("alert").filter(has_text="Please sign in again")).to_have_count(1)
    expect(shop.page.locator("#auth-dialog")).to_be_visible()
    expect(shop.page.locator("#sign-in-open")).to_be_visible()


def test_the_shop_works_at_phone_width(open_shop):
    shop = open_shop(PHONE)
    shop.sign_up()
    shop.add(ESPRESSO, expect_count=1)
    shop.add(5, expect_count=2)
    width = shop.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen"
    shop.page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(shop, "shop-phone.png")
    drawer = shop.open_cart()
    expect(shop.page.locator("#checkout")).to_be_in_viewport()
    assert round(drawer.bounding_box()["width"]) == PHONE["width"]
    screenshot(shop, "shop-phone-cart.png")
