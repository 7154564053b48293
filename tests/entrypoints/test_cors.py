"""The CORS contract the page relies on, through add_item and checkout (any command would do)."""

from tests.support import post


def test_preflight_from_an_allowed_origin(client):
    response = client("add_item").options(
        "/",
        headers={
            "Origin": "http://127.0.0.1:54321",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:54321"
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "x-correlation-id", "idempotency-key"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_the_page_can_read_the_correlation_id(client, new_user):
    _, token = new_user()
    response = post(client("checkout"), token, {}, Origin="http://127.0.0.1:54321")
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:54321"
    assert "X-Correlation-ID" in response.headers["Access-Control-Expose-Headers"]


def test_other_origins_get_no_cors_grant(client, new_user):
    response = client("add_item").options("/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    _, token = new_user()
    response = post(client("checkout"), token, {}, Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_exposes_the_reliability_headers(client):
    response = client("add_item").post(
        "/", headers={"Origin": "http://127.0.0.1:54321"}, json={"product_id": 1}
    )
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Correlation-ID", "Idempotent-Replayed", "Retry-After"} <= exposed
