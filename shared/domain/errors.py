"""Domain errors: each names a broken business rule; the HTTP layer maps them to statuses."""


class DomainError(Exception):
    """A command that the rules refuse; nothing it touched may be written."""


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


class ItemNotInCart(DomainError):
    def __init__(self, product_id: int):
        super().__init__(f"product {product_id} is not in the cart")
        self.product_id = product_id


class CartEmpty(DomainError):
    def __init__(self):
        super().__init__("the cart is empty")
