"""Everything the cart functions share: domain, data access, auth, logging and the HTTP wrapper."""
