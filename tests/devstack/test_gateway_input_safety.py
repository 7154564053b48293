"""/rest/v1 input safety: unknown names and injection attempts answer 4xx and change nothing."""

import urllib.parse
import uuid

import jwt
import pytest

from devstack import devkeys
from devstack.gateway import tokens

HOSTILE_QUERIES = [
    # unknown names
    ("nope", "select=*", 404),
    ("users", "select=*", 404),  # auth.users is not in the exposed schema
    ("refresh_tokens", "select=*", 404),
    ("pg_user", "select=*", 404),
    ("products", "select=nope", 400),
    ("products", "nope=eq.1", 400),
    ("products", "order=nope", 400),
    # injection through column lists, filters and order
    ("products", "select=*;drop table products", 400),
    ("products", "select=id,name);drop table products;--", 400),
    ("products", 'select="id"', 400),
    ("products", "select=id::text", 400),
    ("products", "select=id,name,(select 1)", 400),
    ("products", "id=eq.1);--", 400),
    ("products", "id=eq.1 or 1=1", 400),
    ("products", "id=in.(1);delete from products;--)", 400),
    ("products", "id=in.(1,2", 400),
    ("products", "id=like.1", 400),
    ("products", "id=not.eq.1", 400),
    ("products", "id;drop table products=eq.1", 400),
    ("products", "order=id;drop table products", 400),
    ("products", "order=id.desc;select pg_sleep(5)", 400),
    ("products", "order=id desc", 400),
    ("products", "limit=1;drop table products", 400),
    ("products", "limit=-1", 400),
    ("products", "offset=1 or 1=1", 400),
    ("products;drop table products", "select=*", 404),
    ('products"', "select=*", 404),
    ("pg_catalog.pg_authid", "select=*", 404),
]


@pytest.mark.parametrize("relation, query, status", HOSTILE_QUERIES)
def test_hostile_reads_answer_4xx_and_change_nothing(
    gateway, admin, fingerprint, relation, query, status
):
    before = fingerprint()
    path = "/rest/v1/" + urllib.parse.quote(relation) + "?" + _encode(query)
    answer = gateway.get(path)
    assert answer.status == status, answer.body
    assert {"code", "message", "details", "hint"} <= set(answer.body)
    assert fingerprint() == before
    assert admin.scalar("select to_regclass('public.products') is not null")


def test_values_are_bound_as_data_not_sql(gateway, admin, fingerprint):
    before = fingerprint()
    for value in ("x' or '1'='1", "x'; delete from products; --", "%", "' union select 1 --"):
        answer = gateway.get("/rest/v1/products?" + urllib.parse.urlencode({"name": f"eq.{value}"}))
        assert (answer.status, answer.body) == (200, [])
    assert fingerprint() == before
    # ...and such a value finds exactly the row that has it, as any other string would.
    named = admin.create_product(name="x' or '1'='1")
    query = urllib.parse.urlencode({"select": "id", "name": "eq.x' or '1'='1"})
    assert gateway.get("/rest/v1/products?" + query).body == [{"id": named}]


def test_in_list_with_quoted_commas(gateway, admin):
    comma = admin.create_product(name="beans, decaf")
    plain = admin.create_product(name="decaf")
    answer = gateway.get(
        "/rest/v1/products?select=id&order=id&" + _encode('name=in.("beans, decaf",decaf)')
    )
    assert answer.body == [{"id": comma}, {"id": plain}]


def test_other_schemas_are_not_reachable(gateway):
    answer = gateway.get("/rest/v1/products", headers={"Accept-Profile": "auth"})
    assert (answer.status, answer.body["code"]) == (406, "PGRST106")


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_every_write_method_is_refused(gateway, fingerprint, sign_up, method):
    shopper = sign_up()
    before = fingerprint()
    for headers in ({}, shopper.auth):
        answer = gateway.request(
            method, "/rest/v1/products?id=eq.1", body={"stock": 0}, headers=headers
        )
        assert (answer.status, answer.body["code"]) == (405, "read_only")
    assert fingerprint() == before


def _token(local_stack, **claims) -> str:
    key = local_stack.private_jwk
    return devkeys.mint_token(key, "00000000-0000-4000-8000-0000000000aa", **claims)


def test_only_the_two_api_roles_can_be_assumed(gateway, local_stack):
    """A correctly signed token for a powerful role must not become `SET ROLE service_role`."""
    for role in ("service_role", "postgres", "authenticator", "anon; drop table products"):
        token = _token(local_stack, role=role)
        answer = gateway.get("/rest/v1/orders", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 401, role


def test_bad_tokens_are_refused(gateway, local_stack, admin):
    expired = _token(local_stack, ttl_seconds=-60)
    wrong_key = devkeys.mint_token(devkeys.generate_private_jwk(), uuid.uuid4())
    wrong_audience = _token(local_stack, aud="somebody-else")
    unsigned = jwt.encode({"role": "authenticated", "sub": "x", "exp": 9999999999}, None, "none")
    hs256 = jwt.encode(
        {"role": "anon", "exp": 9999999999},
        "a-shared-secret-of-at-least-32-bytes",
        algorithm="HS256",
    )
    for token in (expired, wrong_key, wrong_audience, unsigned, hs256, "garbage"):
        answer = gateway.get("/rest/v1/products", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 401, token
    assert gateway.get("/rest/v1/products", apikey=False).status == 401
    user_token_as_key = gateway.get("/rest/v1/products", headers={"apikey": _token(local_stack)})
    assert user_token_as_key.status == 401
    assert tokens.verify(local_stack.anon_key, local_stack.private_jwk)["role"] == "anon"


def _encode(query: str) -> str:
    """Percent-encode each `key=value` pair the way a client would send it."""
    pairs = [part.partition("=") for part in query.split("&")]
    return "&".join(
        urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe="") for k, _, v in pairs
    )


@pytest.mark.parametrize("role", [["authenticated"], ["anon"], {"name": "anon"}, 1, True])
def test_a_signed_token_whose_role_is_not_a_string_is_refused_never_a_500(
    gateway, local_stack, role
):
    token = _token(local_stack, role=role)
    bearer = {"Authorization": f"Bearer {token}"}
    assert gateway.get("/rest/v1/products", headers=bearer).status == 401
    assert gateway.get("/rest/v1/products", headers={"apikey": token}).status == 401
    assert gateway.get("/auth/v1/user", headers=bearer).status == 403
    assert gateway.post("/auth/v1/logout", headers=bearer).status == 403
    # The functions decide for themselves (see shared/auth.py); never with a 500.
    answer = gateway.post(
        "/functions/v1/add-item", {"product_id": 1, "quantity": 1}, headers=bearer, apikey=False
    )
    assert answer.status < 500, answer.body
