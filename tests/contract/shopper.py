"""The one shopper the fuzzer signs in as, known before the stack starts.

Schemathesis builds part of its cases (the coverage phase) while pytest collects, credentials
included, so the token cannot come from a session fixture: the contract stack trusts this key
and this issuer instead of the session's.
"""

from __future__ import annotations

import uuid

from devstack import devkeys

SIGNING_KEY = devkeys.generate_private_jwk()
ISSUER = "https://contract-tests.invalid/auth/v1"
USER_ID = uuid.uuid4()
TOKEN = devkeys.mint_token(SIGNING_KEY, USER_ID, "shopper@example.com", iss=ISSUER)
