"""What the BigQuery fakes share (the adapter's in src/dalgo/warehouses/tests, the loader's in
src/dalgo/ingestion/tests): Google's documented error shape, service-account key files, the OAuth 2.0
JWT-bearer token request, the failures BigQuery documents (to inject: `Faults`), and Google's
resumable upload protocol (`UploadSessions`). BigQuery cannot be reached from here; these follow its
docs, cited where each is defined."""

from __future__ import annotations

import base64
import functools
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

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


# --- failures, as BigQuery documents them ---------------------------------------------------------
# https://cloud.google.com/bigquery/docs/error-messages: 5xx are server-side errors to retry later
# (backendError 500/503, internalError 500; "If you receive this error when making a jobs.insert
# call, it's unclear if the job succeeded"); rateLimitExceeded is a short-term limit to retry with
# exponential backoff (HTTP 403, https://cloud.google.com/bigquery/docs/troubleshoot-quotas; Google's
# front end answers rate limits with 429 RESOURCE_EXHAUSTED too); quotaExceeded, accessDenied
# (403), invalid/invalidQuery (400) and notFound (404) are not transient; duplicate (409) answers the
# creation of something that exists, a job whose jobId is taken among them.


@dataclass
class Fault:
    """One failure a fake answers a request with. `status` None: no answer at all (the connection
    drops). `after_work`: the request was carried out first, only its answer is lost or replaced by
    the error."""

    status: int | None
    reason: str = ""
    message: str = ""
    rpc_status: str = ""
    after_work: bool = False

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.status is None:
            if self.after_work:
                raise httpx.ReadError("Connection reset by peer", request=request)
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(self.status, json=error_body(self.status, self.message, self.reason, self.rpc_status))


def unavailable(*, after_work: bool = False) -> Fault:
    return Fault(503, "backendError", "Error encountered during execution. Retrying may solve the problem.",
                 "UNAVAILABLE", after_work)  # fmt: skip


def internal_error() -> Fault:
    return Fault(500, "internalError", "An internal error occurred and the request could not be completed. "
                 "This is usually caused by a transient issue.", "INTERNAL")  # fmt: skip


def rate_limited(status: int = 429) -> Fault:
    return Fault(status, "rateLimitExceeded", "Exceeded rate limits: too many api requests per user per method "
                 "for this user_method.", "RESOURCE_EXHAUSTED" if status == 429 else "PERMISSION_DENIED")  # fmt: skip


def quota_exceeded() -> Fault:
    return Fault(403, "quotaExceeded", "Quota exceeded: Your project exceeded quota for imports per project.",
                 "PERMISSION_DENIED")  # fmt: skip


def access_denied(message: str = "Access Denied: Project ngo-data: User does not have bigquery.jobs.create "
                  "permission in project ngo-data.") -> Fault:  # fmt: skip
    return Fault(403, "accessDenied", message, "PERMISSION_DENIED")


def invalid(message: str = "Invalid value for the job configuration.", reason: str = "invalid") -> Fault:
    return Fault(400, reason, message, "INVALID_ARGUMENT")


def not_found(message: str = "Not found: Dataset ngo-data:gone") -> Fault:
    return Fault(404, "notFound", message, "NOT_FOUND")


def lost() -> Fault:
    """The request was carried out and its answer never arrived (the connection dropped)."""
    return Fault(None, after_work=True)


@dataclass
class _Planned:
    kind: str
    fault: Fault
    on: int | None
    when: Callable[[httpx.Request], bool] | None


class Faults:
    """Failures planned for a fake, by kind of call (the REST method: "jobs.insert", "jobs.get",
    "jobs.query", "tables.list", ...; or what a fake names so, e.g. the end of a job it runs, "load
    job" / "query job", failing with an errorResult) and by when: the `on`-th call of that kind
    (retries count), or the first call for which `when(request)` holds. Each planned failure happens
    once."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._planned: list[_Planned] = []

    def plan(
        self,
        kind: str,
        fault: Fault,
        *,
        on: int | Iterable[int] | None = None,
        when: Callable[[httpx.Request], bool] | None = None,
    ) -> None:
        if when is not None:
            self._planned.append(_Planned(kind, fault, None, when))
            return
        for n in [on or 1] if isinstance(on, int) or on is None else on:
            self._planned.append(_Planned(kind, fault, n, None))

    @property
    def pending(self) -> list[str]:
        """The planned failures that have not happened (yet)."""
        return [f"{p.kind} #{p.on}" if p.when is None else f"{p.kind} (when ...)" for p in self._planned]

    def take(self, kind: str, request: httpx.Request | None = None) -> Fault | None:
        """Count a call of `kind`: the failure planned for it, if any."""
        self.calls[kind] += 1
        for planned in self._planned:
            if planned.kind == kind and (
                planned.on == self.calls[kind]
                if planned.when is None
                else request is not None and planned.when(request)
            ):
                self._planned.remove(planned)
                return planned.fault
        return None

    def handle(self, kind: str, request: httpx.Request, work: Callable[[], httpx.Response]) -> httpx.Response:
        """The answer to a call: `work()`'s, unless a failure is planned for it."""
        fault = self.take(kind, request)
        if fault is None:
            return work()
        if fault.after_work:
            work()
        return fault.answer(request)

    def route(
        self,
        request: httpx.Request,
        path: str,
        routes: list[tuple[str, str, str, Callable[..., httpx.Response]]],
    ) -> httpx.Response | None:
        """A fake's routing table, (method, path pattern, kind, handler): the answer of the first
        route that matches `path` (handler(request, *the pattern's groups, URL-decoded)), through
        `handle`; None when no route matches."""
        for method, pattern, kind, handler in routes:
            match = re.fullmatch(pattern, path)
            if request.method == method and match:
                groups = [unquote(g) for g in match.groups()]
                return self.handle(kind, request, functools.partial(handler, request, *groups))
        return None


# --- Google's resumable upload protocol ------------------------------------------------------------

UPLOAD_GRANULE = 256 * 1024
CONTENT_RANGE = re.compile(r"bytes (?:\*|(\d+)-(\d+))/(\d+|\*)")


class UploadSessions:
    """Resumable upload sessions as https://cloud.google.com/bigquery/docs/reference/api-uploads
    documents them. `start` answers POST ?uploadType=resumable (the resource's metadata as JSON,
    X-Upload-Content-Type, optional X-Upload-Content-Length) with 200 and the session URI in Location.
    `put` answers PUTs to the session URI: a chunk with Content-Range "bytes first-last/total" (each
    chunk but the last a multiple of 256 KiB, starting where the session's data ends) gets 308 Resume
    Incomplete with Range "bytes=0-n" (no Range while it holds nothing), and the last one gets what
    `complete(metadata, data)` answers (the created resource); an empty PUT with "bytes */total" asks
    for the status: 308 as above, or the final answer again once complete. An unknown session is 404.
    A client that resends bytes the session holds, or sends a chunk of another size, fails the test
    (the docs call the first undefined behaviour and refuse the second)."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}

    def start(self, request: httpx.Request) -> httpx.Response:
        assert request.url.params["uploadType"] == "resumable"
        assert request.headers["content-type"].startswith("application/json")
        assert request.headers["x-upload-content-type"]
        total = request.headers.get("x-upload-content-length")
        upload_id = uuid.uuid4().hex
        self.sessions[upload_id] = {"metadata": json.loads(request.content), "data": bytearray(),
                                    "total": int(total) if total else None, "final": None}  # fmt: skip
        location = request.url.copy_merge_params({"upload_id": upload_id})
        return httpx.Response(200, headers={"Location": str(location)})

    def put(
        self, request: httpx.Request, complete: Callable[[dict[str, Any], bytes], httpx.Response]
    ) -> httpx.Response:
        session = self.sessions.get(request.url.params.get("upload_id", ""))
        if session is None:
            return httpx.Response(404, json=error_body(404, "Upload session not found.", "notFound", "NOT_FOUND"))
        match = CONTENT_RANGE.fullmatch(request.headers.get("content-range", ""))
        assert match, f"Content-Range {request.headers.get('content-range')!r}"
        if session["final"] is not None:
            status, body = session["final"]
            return httpx.Response(status, json=body)
        if match[1] is None:  # a status query
            assert request.content == b""
            return self._incomplete(session)
        first, last, total = int(match[1]), int(match[2]), match[3]
        assert first == len(session["data"]), f"a chunk from byte {first}; the session holds {len(session['data'])}"
        assert len(request.content) == last - first + 1
        final = total != "*" and last + 1 == int(total)
        if session["total"] is not None and total != "*":
            assert int(total) == session["total"]
        if not final:
            assert len(request.content) % UPLOAD_GRANULE == 0, "a chunk before the last is a multiple of 256 KiB"
        session["data"] += request.content
        if not final:
            return self._incomplete(session)
        response = complete(session["metadata"], bytes(session["data"]))
        session["final"] = (response.status_code, json.loads(response.content))
        return response

    def _incomplete(self, session: dict[str, Any]) -> httpx.Response:
        held = len(session["data"])
        return httpx.Response(308, headers={"Range": f"bytes=0-{held - 1}"} if held else {})
