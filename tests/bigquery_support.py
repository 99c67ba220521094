"""What the BigQuery fakes share (the adapter's in src/dalgo/warehouses/tests, the loader's in
src/dalgo/ingestion/tests): Google's documented error shape, service-account key files, and the
OAuth 2.0 JWT-bearer token request. BigQuery cannot be reached from here; these follow its docs."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

TOKEN_URI = "https://oauth2.googleapis.com/token"


def error_body(code: int, message: str, reason: str, status: str) -> dict[str, Any]:
    """BigQuery's documented error shape."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }
    }


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_key(key: rsa.RSAPrivateKey, *, project: str, email: str, **extra: str) -> dict[str, Any]:
    """A service-account key file as the Google Cloud console downloads it."""
    return {"type": "service_account", "project_id": project, "private_key_id": "0123456789abcdef",
            "private_key": pem(key), "client_email": email, "token_uri": TOKEN_URI, **extra}  # fmt: skip


def token_assertion(
    request: httpx.Request, public_key: rsa.RSAPublicKey
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The JWT-bearer assertion of a token request as (header, claims), or None when its RS256
    signature does not verify with `public_key` (Google answers 400 invalid_grant then)."""
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
    try:
        public_key.verify(
            b64decode(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return None
    return json.loads(b64decode(header_b64)), json.loads(b64decode(claims_b64))


INVALID_SIGNATURE = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
