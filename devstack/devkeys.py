"""Development keys: an ES256 key pair as JWKS and tokens signed with it.

`python -m devstack.devkeys [--user UUID] [--email E] [--key FILE]` prints the public JWKS (what
JWT_JWKS takes), the private JWK and a one-hour token. Never used by the deployed functions.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def generate_private_jwk() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key))
    jwk.update(kid=uuid.uuid4().hex[:16], alg="ES256", use="sig")
    return jwk


def public_jwks(private_jwk: dict) -> dict:
    public = {k: v for k, v in private_jwk.items() if k != "d"}
    return {"keys": [public]}


def load_or_create(path: Path) -> dict:
    """The private JWK kept at `path`, made on first use (readable by its owner only)."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    jwk = generate_private_jwk()
    path.touch(mode=0o600)
    path.write_text(json.dumps(jwk))
    return jwk


def mint_token(
    private_jwk: dict,
    user_id: uuid.UUID | str,
    email: str | None = None,
    ttl_seconds: int = 3600,
    **extra_claims,
) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl_seconds,
        **({"email": email} if email else {}),
        **extra_claims,
    }
    key = jwt.PyJWK(private_jwk, "ES256").key
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": private_jwk["kid"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default=str(uuid.uuid4()), help="the token's sub")
    parser.add_argument("--email", default="dev@example.com")
    parser.add_argument("--key", type=Path, help="keep/read the private JWK in this file")
    args = parser.parse_args()
    jwk = load_or_create(args.key) if args.key else generate_private_jwk()
    print("JWT_JWKS=" + json.dumps(public_jwks(jwk)))
    print("PRIVATE_JWK=" + json.dumps(jwk))
    print("TOKEN=" + mint_token(jwk, args.user, args.email))


if __name__ == "__main__":
    main()
