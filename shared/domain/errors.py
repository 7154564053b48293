"""Domain errors: each names a broken business rule; the HTTP layer maps them to statuses.

`details` (when an error has them) are extra fields of the error body: what a client needs to
explain the refusal without parsing the message.
"""


class DomainError(Exception):
    """A command that the rules refuse; nothing it touched may be written."""

    details: dict = {}


class InvalidQuantity(DomainError):
    def __init__(self, quantity: object):
        super().__init__(f"quantity must be a positive whole number, got {quantity!r}")


class ProductNotFound(DomainError):
    def __init__(self, product_id: int):
        super().__init__(f"product {product_id} does not exist")
        self.product_id = product_id


class InsufficientStock(DomainError):
    def __init__(self, product_id: int, requested: int, available: int):
        super().__init__(f"product {product_id} has {available} in stock, {requested} requested")
        self.product_id = product_id
        self.requested = requested
        self.available = available


class PurchaseLimitReached(DomainError):
    def __init__(self, product_id: int, limit: int, held: int, requested: int):
        super().__init__(
            f"product {product_id} is limited to {limit} per customer; you hold {held}"
            f" (in your cart and orders), {requested} more requested"
        )
        self.details = {"limit": limit, "held": held}


class CartLimitReached(DomainError):
    def __init__(self, what: str, limit: int, current: int):
        super().__init__(f"a cart holds at most {limit} {what}; this one has {current}")
        self.details = {"limit": limit, "limit_of": what}


class RateLimited(DomainError):
    def __init__(self, per_minute: int, retry_after_seconds: int):
        super().__init__(f"at most {per_minute} commands a minute; try again shortly")
        self.retry_after_seconds = max(retry_after_seconds, 1)
        self.details = {"retry_after_seconds": self.retry_after_seconds}


class ItemNotInCart(DomainError):
    def __init__(self, product_id: int):
        super().__init__(f"product {product_id} is not in the cart")
        self.product_id = product_id


class CartEmpty(DomainError):
    def __init__(self):
        super().__init__("the cart is empty")


class StockNotAllHeld(Exception):
    """Not a refusal: the buckets this command holds fall short, but they are not all of the
    product's. Only a command that holds every bucket may say `insufficient_stock`, so the
    command runs again holding them all."""
