"""add_item, remove_item and checkout as one FastAPI app, written the straightforward way.

`uvicorn bench.baseline_fastapi.app:app` serves POST /add_item, /remove_item and /checkout with
the same bodies, answers and error codes as the functions. A session per request, ORM objects
loaded with `with_for_update()` in the same lock order (cart, product, line), changes flushed by
the unit of work at commit.
"""

from __future__ import annotations

import functools
import os
import uuid

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from bench.baseline_fastapi.models import Cart, CartItem, Order, OrderItem, Product
from shared.adapters.postgres.connection import pg8000_url
from shared.entrypoints import auth
from shared.entrypoints.schemas import CartItemRequest, CheckoutRequest

app = FastAPI()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message


@functools.cache
def sessions() -> sessionmaker:
    return sessionmaker(create_engine(pg8000_url(os.environ["DATABASE_URL"])))


def current_user(authorization: str | None = Header(default=None)) -> uuid.UUID:
    try:
        return auth.authenticate(authorization).id
    except auth.Unauthorized as error:
        raise ApiError(401, "unauthorized", str(error)) from None


def _error(request: Request, status: int, code: str, message: str, **details) -> JSONResponse:
    cid = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
    body = {"error": {"code": code, "message": message, "correlation_id": cid, **details}}
    return JSONResponse(body, status_code=status, headers={"X-Correlation-ID": cid})


@app.exception_handler(ApiError)
def api_error(request: Request, error: ApiError) -> JSONResponse:
    return _error(request, error.status, error.code, error.message)


@app.exception_handler(RequestValidationError)
def invalid_body(request: Request, error: RequestValidationError) -> JSONResponse:
    problem = error.errors()[0]
    if problem["type"] == "json_invalid":
        return _error(request, 400, "invalid_json", "request body is not valid JSON")
    field = ".".join(str(p) for p in problem["loc"][1:]) or "body"
    return _error(request, 422, "validation_error", f"{field}: {problem['msg']}", field=field)


def _locked_cart(session: Session, user_id: uuid.UUID) -> Cart:
    session.execute(insert(Cart).values(user_id=user_id).on_conflict_do_nothing())
    return session.scalars(select(Cart).where(Cart.user_id == user_id).with_for_update()).one()


def _locked_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise ApiError(404, "product_not_found", f"product {product_id} does not exist")
    return product


@app.post("/add_item")
def add_item(body: CartItemRequest, user_id: uuid.UUID = Depends(current_user)) -> dict:
    with sessions().begin() as session:
        cart = _locked_cart(session, user_id)
        product = _locked_product(session, body.product_id)
        if product.stock < body.quantity:
            raise ApiError(
                409,
                "insufficient_stock",
                f"product {product.id} has {product.stock} in stock, {body.quantity} requested",
            )
        item = session.get(CartItem, (cart.id, product.id), with_for_update=True)
        if item is None:
            item = CartItem(cart_id=cart.id, product_id=product.id, quantity=0)
            session.add(item)
        item.quantity += body.quantity
        product.stock -= body.quantity
        cart.updated_at = func.now()
        session.flush()
        return {"product_id": product.id, "quantity": item.quantity}


@app.post("/remove_item")
def remove_item(body: CartItemRequest, user_id: uuid.UUID = Depends(current_user)) -> dict:
    with sessions().begin() as session:
        cart = _locked_cart(session, user_id)
        product = _locked_product(session, body.product_id)
        item = session.get(CartItem, (cart.id, product.id), with_for_update=True)
        if item is None:
            raise ApiError(404, "item_not_in_cart", f"product {product.id} is not in the cart")
        returned = min(body.quantity, item.quantity)
        product.stock += returned
        item.quantity -= returned
        left = item.quantity
        if left == 0:
            session.delete(item)
        return {"product_id": product.id, "quantity": left}


@app.post("/checkout")
def checkout(
    body: CheckoutRequest | None = None, user_id: uuid.UUID = Depends(current_user)
) -> dict:
    with sessions().begin() as session:
        cart = _locked_cart(session, user_id)
        items = session.scalars(
            select(CartItem).where(CartItem.cart_id == cart.id).with_for_update()
        ).all()
        if not items:
            raise ApiError(409, "cart_empty", "the cart is empty")
        order = Order(user_id=user_id, status="placed", correlation_id=str(uuid.uuid4()))
        order.lines = [
            OrderItem(
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price_cents=item.product.price_cents,
            )
            for item in sorted(items, key=lambda i: i.product_id)
        ]
        order.total_cents = sum(line.quantity * line.unit_price_cents for line in order.lines)
        session.add(order)
        names = {item.product_id: item.product.name for item in items}
        for item in items:
            session.delete(item)
        session.flush()
        session.refresh(order, ["created_at"])
        return {
            "order_id": str(order.id),
            "status": order.status,
            "total_cents": order.total_cents,
            "created_at": order.created_at.isoformat(),
            "lines": [
                {
                    "product_id": line.product_id,
                    "name": names[line.product_id],
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.quantity * line.unit_price_cents,
                }
                for line in order.lines
            ],
        }
