"""checkout writes its OrderPlaced event with its order, in the same statement, or not at all."""

from __future__ import annotations


def checkout(client, token):
    return client("checkout").post("/", json={}, headers={"Authorization": token})


def test_every_order_has_exactly_one_event_and_every_event_an_order(client, new_user, admin):
    # Scoped to this test's user: other suites (the bench's baseline app) share the database.
    user, token = new_user()
    for _ in range(2):
        admin.put_in_cart(user, admin.create_product())
        assert checkout(client, token).status_code == 200
    events = admin.rows(
        "select o.id, count(e.id) from orders o left join outbox e on e.order_id = o.id"
        " and e.event_type = 'OrderPlaced' where o.user_id = :u group by o.id",
        u=user,
    )
    assert len(events) == 2 and all(count == 1 for _, count in events), events
    assert (
        admin.scalar(
            "select count(*) from outbox e where not exists"
            " (select 1 from orders o where o.id = e.order_id)"
        )
        == 0
    )


def test_a_refused_checkout_writes_no_event(client, new_user, admin):
    _, token = new_user()
    before = admin.scalar("select count(*) from outbox")
    assert checkout(client, token).status_code == 409  # empty cart
    assert admin.scalar("select count(*) from outbox") == before


def test_a_failed_order_statement_leaves_no_event(client, new_user, admin):
    """If anything in the order's statement fails, the event goes with it: one statement."""
    product = admin.create_product(stock=5)
    user, token = new_user()
    admin.put_in_cart(user, product)
    admin.execute(
        "alter table orders add constraint no_orders_now check (total_cents < 0) not valid"
    )
    try:
        before = admin.scalar("select count(*) from outbox")
        assert checkout(client, token).status_code == 500
        assert admin.scalar("select count(*) from outbox") == before
        assert admin.in_cart(user, product) == 1
    finally:
        admin.execute("alter table orders drop constraint no_orders_now")
