"""supabase-py, unchanged, against the local stack: reads through RLS, writes refused."""

import pytest
from postgrest.exceptions import APIError
from supabase import ClientOptions, create_client

# supabase-py warns about its own use of postgrest's deprecated arguments; nothing to do here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase")


@pytest.fixture
def client(local_stack):
    """`client(token=None)` -> a supabase-py client, anon unless given a user's access token."""

    def make(token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        options = ClientOptions(
            headers=headers,
            auto_refresh_token=False,
            persist_session=False,
            postgrest_client_retry=False,
        )
        return create_client(local_stack.url, local_stack.anon_key, options=options)

    return make


@pytest.fixture
def shopper_with_order(gateway, sign_up, admin):
    """A shopper who bought one product and still holds another in the cart."""
    shopper = sign_up()
    bought, held = admin.create_product(stock=5), admin.create_product(stock=5)
    for product in (bought, held):
        add = {"product_id": product, "quantity": 1}
        assert gateway.post("/functions/v1/add-item", add, headers=shopper.auth).status == 200
        if product == bought:
            order = gateway.post("/functions/v1/checkout", {}, headers=shopper.auth)
            assert order.status == 200, order.body
    return shopper, order.body["order_id"], held


def test_anon_reads_the_products(client, admin):
    product = admin.create_product(stock=7, price_cents=1234, name="anon-visible product")
    rows = client().table("product_catalog").select("*").eq("id", product).execute().data
    assert rows == [
        {
            "id": product,
            "name": "anon-visible product",
            "description": "",
            "price_cents": 1234,
            "stock": 7,
            "in_stock": True,
            "max_per_customer": None,
        }
    ]
    everything = client().table("products").select("id").order("id").execute().data
    assert [r["id"] for r in everything] == [
        r.id for r in admin.rows("select id from products order by id")
    ]


def test_single_object_and_ordering(client, admin):
    product = admin.create_product(stock=2)
    row = client().table("products").select("id,stock").eq("id", product).single().execute().data
    assert row == {"id": product, "stock": 2}
    ids = [
        r["id"]
        for r in client().table("products").select("id").order("id", desc=True).execute().data
    ]
    assert ids == sorted(ids, reverse=True)
    page = client().table("products").select("id").order("id").range(1, 2).execute().data
    assert [r["id"] for r in page] == ids[::-1][1:3]


def test_anon_reads_no_cart_and_no_orders(client, shopper_with_order):
    for view in ("my_cart", "my_orders", "carts", "cart_items", "orders", "order_items"):
        with pytest.raises(APIError) as refused:
            client().table(view).select("*").execute()
        assert refused.value.code == "42501", view


def test_a_user_reads_only_their_own_cart_and_orders(client, shopper_with_order, sign_up, admin):
    shopper, order_id, held = shopper_with_order
    mine = client(shopper.access_token)
    cart = mine.table("my_cart").select("product_id,quantity").execute().data
    assert cart == [{"product_id": held, "quantity": 1}]
    orders = mine.table("my_orders").select("id,status,lines").execute().data
    assert [o["id"] for o in orders] == [order_id]
    assert orders[0]["status"] == "placed" and len(orders[0]["lines"]) == 1
    # The tables underneath answer the same: RLS, not the views' where clause, is the gate.
    assert [r["user_id"] for r in mine.table("carts").select("user_id").execute().data] == [
        shopper.id
    ]
    assert [r["id"] for r in mine.table("orders").select("id").execute().data] == [order_id]
    assert admin.scalar("select count(*) from orders") >= 1


def test_another_users_rows_never_come_back(client, shopper_with_order, sign_up):
    shopper, order_id, held = shopper_with_order
    other = client(sign_up().access_token)
    assert other.table("my_cart").select("*").execute().data == []
    assert other.table("my_orders").select("*").execute().data == []
    assert other.table("orders").select("*").eq("id", order_id).execute().data == []
    assert other.table("order_items").select("*").eq("order_id", order_id).execute().data == []
    assert other.table("carts").select("*").eq("user_id", shopper.id).execute().data == []
    assert other.table("cart_items").select("*").eq("product_id", held).execute().data == []


def test_supabase_py_signs_in_and_reads_its_cart(local_stack, shopper_with_order):
    shopper, order_id, held = shopper_with_order
    options = ClientOptions(auto_refresh_token=False, persist_session=False)
    supabase = create_client(local_stack.url, local_stack.anon_key, options=options)
    signed_in = supabase.auth.sign_in_with_password(
        {"email": shopper.email, "password": shopper.password}
    )
    assert signed_in.user.id == shopper.id
    assert supabase.auth.get_user().user.email == shopper.email
    cart = supabase.table("my_cart").select("product_id").execute().data
    assert cart == [{"product_id": held}]
    supabase.auth.sign_out()


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.insert({"name": "free stuff", "price_cents": 0, "stock": 1}),
        lambda t: t.update({"stock": 1000}).eq("id", 1),
        lambda t: t.upsert({"id": 1, "name": "x", "price_cents": 0, "stock": 0}),
        lambda t: t.delete().eq("id", 1),
    ],
    ids=["insert", "update", "upsert", "delete"],
)
def test_writes_through_rest_are_refused(client, sign_up, fingerprint, write):
    shopper = sign_up()
    before = fingerprint()
    for token in (None, shopper.access_token):
        with pytest.raises(APIError) as refused:
            write(client(token).table("products")).execute()
        assert refused.value.code == "read_only"
    assert fingerprint() == before
