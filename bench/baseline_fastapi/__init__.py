"""The yardstick: the same three endpoints written the usual way, FastAPI + SQLAlchemy ORM.

Same tables, same bodies, same status and error codes, same JWT verification (shared.auth), same
driver (pg8000); only the way the work is done differs. Bench-only: never deployed.
"""
