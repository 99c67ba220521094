"""BigQuery over its REST API v2 (https://cloud.google.com/bigquery/docs/reference/rest), with httpx.

No google-cloud-* packages: the adapter needs a handful of calls. It authenticates with the
service-account flow of Google OAuth 2.0 (a JWT assertion signed RS256 with the key's private_key,
exchanged at the key's token_uri for an access token, cached until shortly before it expires), then
uses datasets.list, tables.list, tables.get, jobs.query, jobs.getQueryResults and jobs.cancel (reads:
Explore, statistics, connection tests). The loader's BigQueryWriter shares the client
(`BigQueryClient`) and adds jobs.insert, for its statements (query jobs, `run_statement`) and for load
jobs with a media upload (multipart for small payloads, the resumable upload protocol above
RESUMABLE_THRESHOLD), jobs.get and tables.delete.

Transient failures are retried where repeating the request is safe, as BigQuery's error handling
documents (https://cloud.google.com/bigquery/docs/error-messages): HTTP 5xx and 429, the reasons
backendError, rateLimitExceeded and internalError, and a request that got no answer, with truncated
exponential backoff and jitter (`RetryPolicy`). Safe to repeat: GET and DELETE; jobs.insert, whose
jobReference.jobId we choose (a 409 duplicate for it after a lost answer means the job exists: it is
polled); jobs.query, which carries a requestId (duplicates within 15 minutes return the first
request's job, https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query#QueryRequest);
and the requests of a resumable upload, which resumes from what the session says it received. A job
of ours (a load, or a statement of the loader's) that ends with an errorResult whose reason is
transient changed nothing (a job is all or nothing, DML included) and is run again under a new jobId,
up to JOB_ATTEMPTS runs (`_run_job`). A read whose job fails so is not run again: jobs.query names
the job itself and a repeat of its requestId answers with the same failed job, so it fails as
WarehouseUnreachable and whoever waits may ask again. Other errors (invalid, accessDenied, notFound,
...) fail at once.

Queries run as jobs in the configured location with standard SQL. Results come in the REST "f/v"
row format with every value as a string; they are converted to Python values by the result schema.
Secrets (the private key, the signed assertion, access tokens) never enter an exception or a log.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dalgo.warehouses.adapters.base import (
    Catalog,
    Column,
    ColumnKind,
    QueryResult,
    QueryTimeout,
    StreamedResult,
    Table,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseMissing,
    WarehousePrivileges,
    WarehouseUnreachable,
)

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/bigquery"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_BASE_URL = "https://bigquery.googleapis.com/bigquery/v2"

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0  # for calls that do not wait on a job
ASSERTION_LIFETIME = 3600  # the longest Google accepts
TOKEN_REFRESH_MARGIN = 300.0  # refresh a cached token this many seconds before it expires
LONG_POLL_MS = 10_000  # the longest a single jobs.query / getQueryResults call waits for the job
PAGE_ROWS = 10_000  # rows asked for per result page
LIST_PAGE = 1000  # datasets / tables asked for per list page
MAX_MESSAGE = 500  # characters of a BigQuery message quoted back
# Errors name the settings field at fault the way the settings form nests them ("config.<name>"),
# like the other adapters, so the form can mark the field.
FIELD_PREFIX = "config."

# Retries (module docstring). The BigQuery SLA's back-off asks for at least 1 s after the first error,
# doubling per consecutive error up to 32 s.
RETRY_REASONS = frozenset({"backendError", "rateLimitExceeded", "internalError"})
SAFE_METHODS = frozenset({"GET", "DELETE"})
RETRY_ATTEMPTS = 6  # tries of one request, the first included
RETRY_BASE_DELAY = 1.0  # seconds before the first retry; each later one doubles
RETRY_MAX_DELAY = 32.0  # seconds: the longest wait between two tries
RETRY_DEADLINE = 120.0  # seconds one request may spend retrying (well inside requestId's 15 minutes)
JOB_ATTEMPTS = 3  # runs of one job whose errorResult reason is transient
# Media uploads (https://cloud.google.com/bigquery/docs/reference/api-uploads): multipart up to this
# size, the resumable protocol above it, sent in chunks of a multiple of 256 KiB as it requires.
RESUMABLE_THRESHOLD = 5 * 1024 * 1024
UPLOAD_GRANULE = 256 * 1024
UPLOAD_CHUNK = 32 * UPLOAD_GRANULE  # 8 MiB

NEEDED_ROLES = "BigQuery Data Viewer (roles/bigquery.dataViewer) and BigQuery Job User (roles/bigquery.jobUser)"

NUMBER_TYPES = {"INT64", "INTEGER", "FLOAT64", "FLOAT", "NUMERIC", "BIGNUMERIC", "DECIMAL", "BIGDECIMAL"}
KINDS: dict[str, ColumnKind] = {
    **dict.fromkeys(NUMBER_TYPES, ColumnKind.NUMBER),
    "STRING": ColumnKind.TEXT,
    "DATE": ColumnKind.DATE,
    "DATETIME": ColumnKind.DATETIME,
    "TIMESTAMP": ColumnKind.DATETIME,
    "BOOL": ColumnKind.BOOLEAN,
    "BOOLEAN": ColumnKind.BOOLEAN,
    "RECORD": ColumnKind.JSON,
    "STRUCT": ColumnKind.JSON,
    "JSON": ColumnKind.JSON,
}
VIEW_TYPES = {"VIEW", "MATERIALIZED_VIEW"}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _wall_clock() -> float:
    """Seconds since the epoch (for JWT claims and token expiry); a seam for tests."""
    return time.time()


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: at most `attempts` tries of one request within `deadline`
    seconds, waiting min(base_delay * 2**(n-1) + jitter, max_delay) before retry n (truncated
    exponential backoff; the jitter is uniform in [0, base_delay)). `sleep` is a seam for tests."""

    attempts: int = RETRY_ATTEMPTS
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    deadline: float = RETRY_DEADLINE
    sleep: Callable[[float], None] | None = None

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first)."""
        jitter = random.uniform(0, self.base_delay)  # noqa: S311 (spreads retries, nothing secret)
        return min(self.base_delay * 2.0 ** (retry - 1) + jitter, self.max_delay)

    def wait(self, seconds: float) -> None:
        (self.sleep or time.sleep)(seconds)


class _Backoff:
    """The tries of one request (or one upload) under a RetryPolicy, and its own deadline if sooner."""

    def __init__(self, policy: RetryPolicy, *, deadline: float | None = None) -> None:
        self.policy = policy
        self.tries = 1
        limit = time.monotonic() + policy.deadline
        self.limit = min(limit, deadline) if deadline is not None else limit

    def again(self, what: str, why: str) -> bool:
        """Wait before the next try and say True, or say False when out of tries or time."""
        if self.tries >= self.policy.attempts:
            return False
        delay = self.policy.delay(self.tries)
        if time.monotonic() + delay > self.limit:
            return False
        log.info(
            "BigQuery %s: %s; try %d of %d in %.1f s",
            what,
            why.rstrip("."),
            self.tries + 1,
            self.policy.attempts,
            delay,
        )
        self.policy.wait(delay)
        self.tries += 1
        return True

    def progressed(self) -> None:
        """An upload moved forward: the tries start again (the deadline does not)."""
        self.tries = 1


def column_kind(field: dict[str, Any]) -> ColumnKind:
    """The ColumnKind of a BigQuery schema field (TableFieldSchema): arrays are JSON whatever their items."""
    if str(field.get("mode") or "NULLABLE").upper() == "REPEATED":
        return ColumnKind.JSON
    return KINDS.get(str(field.get("type") or "").upper(), ColumnKind.OTHER)


def type_name(field: dict[str, Any]) -> str:
    """BigQuery's own name for a field's type, ARRAY<...> for REPEATED fields."""
    name = str(field.get("type") or "UNKNOWN").upper()
    if str(field.get("mode") or "").upper() == "REPEATED":
        return f"ARRAY<{name}>"
    return name


# --- values ---------------------------------------------------------------------------------------


def parse_timestamp(value: str) -> datetime:
    """A TIMESTAMP cell: epoch seconds as a decimal string ("1.7E9", "1700000000.123456") or ISO 8601."""
    text = value.strip()
    if "T" in text or ":" in text or (len(text) > 4 and text[4] == "-"):
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    micros = int((Decimal(text) * 1_000_000).to_integral_value())
    return _EPOCH + timedelta(microseconds=micros)


def _boolean(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "INT64": int,
    "INTEGER": int,
    "FLOAT64": float,
    "FLOAT": float,
    "NUMERIC": Decimal,
    "BIGNUMERIC": Decimal,
    "DECIMAL": Decimal,
    "BIGDECIMAL": Decimal,
    "BOOL": _boolean,
    "BOOLEAN": _boolean,
    "STRING": str,
    "BYTES": base64.b64decode,
    "TIMESTAMP": parse_timestamp,
    "DATE": date.fromisoformat,
    "DATETIME": lambda v: datetime.fromisoformat(v.replace(" ", "T")),
    "TIME": time_of_day.fromisoformat,
    "JSON": json.loads,
}


def _nullable(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def field_converter(field: dict[str, Any]) -> Callable[[Any], Any]:
    """A function from the "v" of one cell of this field to its Python value.

    RECORD cells are {"f": [{"v": ...}, ...]} and become dicts; REPEATED cells are [{"v": ...}, ...]
    and become lists; NULL is None. Types not listed (GEOGRAPHY as WKT, INTERVAL, RANGE) stay strings.
    """
    kind = str(field.get("type") or "STRING").upper()
    if kind in {"RECORD", "STRUCT"}:
        names = [str(sub.get("name")) for sub in field.get("fields") or []]
        subs = [field_converter(sub) for sub in field.get("fields") or []]

        def record(value: Any) -> dict[str, Any]:
            cells = value.get("f") or []
            return {name: conv(cell.get("v")) for name, conv, cell in zip(names, subs, cells, strict=False)}

        scalar: Callable[[Any], Any] = _nullable(record)
    else:
        scalar = _nullable(_SCALARS.get(kind, str))
    if str(field.get("mode") or "").upper() == "REPEATED":
        return _nullable(lambda items: [scalar(item.get("v")) for item in items])
    return scalar


def row_converter(fields: list[dict[str, Any]]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function from one REST row ({"f": [{"v": ...}, ...]}) to a tuple of Python values."""
    converters = [field_converter(field) for field in fields]

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        cells = row.get("f") or []
        try:
            return tuple(conv(cell.get("v")) for conv, cell in zip(converters, cells, strict=False))
        except (ValueError, ArithmeticError, TypeError, AttributeError) as exc:
            raise WarehouseError(f"BigQuery returned a value that could not be read ({type(exc).__name__}).") from None

    return convert


# --- credentials ----------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _key_problem(reason: str) -> WarehouseError:
    return WarehouseError(
        f"The service account key is not usable: {reason}",
        code="invalid_service_account",
        fields={FIELD_PREFIX + "service_account_json": reason},
    )


def load_service_account(info: Any) -> tuple[str, str, rsa.RSAPrivateKey, str | None]:
    """Check a service-account JSON key: (client_email, token_uri, private key, private_key_id)."""
    if not isinstance(info, dict):
        raise _key_problem("paste the whole JSON key file of a service account (a JSON object).")
    if info.get("type") != "service_account":
        raise _key_problem(
            f"this is not a service account key (its type is {str(info.get('type'))[:40]!r}); "
            "create a JSON key for a service account in the Google Cloud console."
        )
    for name in ("client_email", "private_key", "token_uri"):
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise _key_problem(f"the key has no {name}.")
    token_uri = str(info["token_uri"]).strip()
    if urlsplit(token_uri).scheme != "https" or not urlsplit(token_uri).netloc:
        raise _key_problem("token_uri must be an https:// address.")
    try:
        key = serialization.load_pem_private_key(str(info["private_key"]).encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _key_problem("private_key is not a PEM-encoded private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _key_problem("private_key must be an RSA key, as Google issues them.")
    key_id = info.get("private_key_id")
    return str(info["client_email"]).strip(), token_uri, key, key_id if isinstance(key_id, str) else None


# --- errors ---------------------------------------------------------------------------------------


class _NoAnswer(WarehouseUnreachable):
    """A BigQuery request that got no answer (connection failed or dropped, timed out): it may or may
    not have been carried out."""


def retryable(response: httpx.Response) -> bool:
    """Whether BigQuery documents this answer as transient: HTTP 5xx or 429, or an error whose reason
    is backendError, rateLimitExceeded (HTTP 403) or internalError."""
    status = response.status_code
    if status >= 500 or status == 429:
        return True
    if status < 400:
        return False
    return bool(_api_error(response)[1] & RETRY_REASONS)


def _received(response: httpx.Response) -> int:
    """The bytes a resumable upload session holds, from the Range header of its 308 ("bytes=0-42":
    43); none when it has none."""
    value = response.headers.get("Range", "").strip()
    _, _, span = value.rpartition("=")
    _, _, last = span.partition("-")
    try:
        return int(last) + 1
    except ValueError:
        return 0


def _api_error(response: httpx.Response) -> tuple[str, set[str]]:
    """BigQuery's message and the reasons of an error response ({"error": {"message", "errors": [...]}})."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status_code} {response.reason_phrase}".strip(), set()
    message = str(error.get("message") or error.get("status") or f"HTTP {response.status_code}")
    reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")}
    return message, reasons


def _refusal(
    message: str, reasons: set[str], *, status: int | None, missing: str | None = None, denied: str | None = None
) -> WarehouseError:
    """The WarehouseError for an error BigQuery does not call transient: an HTTP error answer
    (`status`, the reasons of its errors) or a job's errorResult (status None, its reason)."""
    if "timeout" in reasons:
        return QueryTimeout(f"BigQuery stopped the query: {message}")
    if status == 404 or "notFound" in reasons:
        return WarehouseMissing(f"{missing} BigQuery said: {message}" if missing else message)
    if ("accessDenied" in reasons and status in (None, 403)) or (status == 403 and not reasons):
        return WarehousePrivileges(f"{denied} BigQuery said: {message}" if denied else message)
    return WarehouseError(message)


class BigQueryClient:
    """BigQuery REST v2 as a service account in one project and location: the access token, the
    authenticated calls, queries whose rows are read (jobs.query), and jobs of ours (the loader's
    statements and loads) inserted under our own jobIds and polled. The adapter (Explore, statistics)
    and the loader's BigQueryWriter both use it.

    `resumable_threshold` and `upload_chunk` (bytes) may be changed on an instance (tests do)."""

    default_retry = RetryPolicy()

    def __init__(
        self,
        *,
        service_account_info: dict[str, Any],
        project: str,
        location: str,
        dataset: str | None = None,
        transport: httpx.BaseTransport | None = None,
        base_url: str = DEFAULT_BASE_URL,
        user_agent: str = "dalgo-bigquery-adapter",
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client_email, self._token_uri, self._key, self._key_id = load_service_account(service_account_info)
        if not project or not project.strip():
            raise WarehouseError("Name the Google Cloud project.", fields={FIELD_PREFIX + "project": "Required."})
        if not location or not location.strip():
            raise WarehouseError(
                "Name the BigQuery location (e.g. US, EU).", fields={FIELD_PREFIX + "location": "Required."}
            )
        self.project = project.strip()
        self.location = location.strip()
        self.dataset = dataset.strip() if dataset and dataset.strip() else None
        self._base_url = base_url.rstrip("/")
        # Media uploads go to the same path under /upload (https://bigquery.googleapis.com/upload/bigquery/v2).
        parts = urlsplit(self._base_url)
        self._upload_url = f"{parts.scheme}://{parts.netloc}/upload{parts.path}"
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": user_agent},
        )
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()
        self.retry = retry or self.default_retry
        self.resumable_threshold = RESUMABLE_THRESHOLD
        self.upload_chunk = UPLOAD_CHUNK

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project={self.project!r}, location={self.location!r}, as={self.client_email!r})"

    def close(self) -> None:
        self._http.close()

    # --- for other apps (the loader's writer) -------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """An authenticated call to `path` under the API's base URL: the response and its JSON body.
        Retried on transient failures when safe to repeat: GET and DELETE, or as `idempotent` says."""
        return self._api(method, path, params=params, json_body=json_body, idempotent=idempotent)

    def fail(self, response: httpx.Response, *, missing: str | None = None, denied: str | None = None) -> NoReturn:
        """Raise the WarehouseError that an error response means."""
        self._fail(response, missing=missing, denied=denied)

    def run_statement(self, sql: str, *, timeout_seconds: float) -> dict[str, Any]:
        """Run one standard-SQL statement (the loader's DDL, INSERT ... SELECT, MERGE, CREATE OR
        REPLACE TABLE, DROP; or a query whose rows are not wanted) to its end as a query job in the
        location: jobs.insert with configuration.query under a jobId chosen here, then jobs.get until
        it is DONE (`_run_job`, the path load jobs take too). Returns the Job resource (its
        statistics.query has the statementType and, for DML, numDmlAffectedRows).

        Repeats are safe: the insert is repeated under the same jobId (a 409 for it means an earlier
        try created the job: it is polled), and a job that ends with an errorResult whose reason is
        transient runs again under a new jobId, up to JOB_ATTEMPTS runs. That holds for DML and DDL
        too, because a job is all or nothing: a statement whose job failed changed nothing. BigQuery's
        error messages say of a job that completes with backendError: "You can safely retry the job
        without concerns about data consistency" (https://cloud.google.com/bigquery/docs/error-messages).
        jobs.query (the adapter's reads) could not do this: the job is named by BigQuery, and a repeat
        of the requestId answers with the same failed job.

        Errors are what jobs.query's error answers raised: BigQuery's message as WarehouseError,
        WarehousePrivileges for accessDenied (naming the roles loading needs), WarehouseMissing for
        notFound, QueryTimeout for timeout; WarehouseUnreachable when the reason was transient on
        every run; past timeout_seconds the job is cancelled and QueryTimeout raised.
        """
        query: dict[str, Any] = {"query": sql, "useLegacySql": False}  # the API's default is legacy SQL
        if self.dataset:
            query["defaultDataset"] = {"projectId": self.project, "datasetId": self.dataset}
        configuration = {"query": query, "jobTimeoutMs": str(max(int(timeout_seconds * 1000), 1))}
        job, runs = self._run_job(configuration, timeout_seconds=timeout_seconds)
        error = (job.get("status") or {}).get("errorResult")
        if not isinstance(error, dict):
            return job
        reason = str(error.get("reason") or "")
        message = str(error.get("message") or reason or "the statement failed")[:MAX_MESSAGE]
        if reason in RETRY_REASONS:
            raise WarehouseUnreachable(
                f"BigQuery is temporarily unavailable: the statement failed for a transient reason ({reason}) "
                f"on each of its {runs} run(s), the last as job {job['jobReference']['jobId']}; try again later. "
                f"BigQuery said: {message}"
            )
        raise _refusal(message, {reason}, status=None, denied=self._job_denied())

    def insert_job(
        self, configuration: dict[str, Any], *, timeout_seconds: float, media: bytes | None = None
    ) -> dict[str, Any]:
        """Run one job (a load job, with `media` uploaded) to its end with `_run_job` and return the
        Job resource. A job that failed raises WarehouseError with "BigQuery job <id> failed:",
        BigQuery's message and its first errors (WarehouseUnreachable when the reason was transient
        on every run); past timeout_seconds the job is cancelled and QueryTimeout raised."""
        job, _ = self._run_job(configuration, timeout_seconds=timeout_seconds, media=media)
        status = job.get("status") or {}
        error = status.get("errorResult")
        if not isinstance(error, dict):
            return job
        details = [
            str(e.get("message"))
            for e in status.get("errors") or []
            if isinstance(e, dict) and e.get("message") and e.get("message") != error.get("message")
        ]
        message = "; ".join([str(error.get("message") or error.get("reason") or "the job failed"), *details[:3]])
        failed = WarehouseUnreachable if str(error.get("reason")) in RETRY_REASONS else WarehouseError
        raise failed(f"BigQuery job {job['jobReference']['jobId']} failed: {message[: MAX_MESSAGE * 2]}")

    def _run_job(
        self, configuration: dict[str, Any], *, timeout_seconds: float, media: bytes | None = None
    ) -> tuple[dict[str, Any], int]:
        """Run one job to its end: jobs.insert under a jobId chosen here (with `media` uploaded:
        multipart up to `resumable_threshold` bytes, the resumable protocol above), then jobs.get until
        it is DONE. Returns the last run's Job resource (its jobReference always set) and the number
        of runs.

        The insert is repeated on transient failures under the same jobId; a 409 for that jobId means
        an earlier try created the job and only its answer was lost, so the job is polled. A job that
        ends with an errorResult whose reason is transient did nothing and runs again under a new
        jobId, up to JOB_ATTEMPTS runs and while the back-off fits before the deadline. The Job
        returned may have failed (its status.errorResult): the callers say how. Past timeout_seconds
        the job is cancelled and QueryTimeout raised.
        """
        deadline = time.monotonic() + max(float(timeout_seconds), 0.001)
        run = 1
        while True:
            job_ref = {"projectId": self.project, "jobId": f"dalgo_{uuid.uuid4().hex}", "location": self.location}
            body = self._start_job(job_ref, configuration, media=media, deadline=deadline)
            body = self._wait_for_job(job_ref, body, deadline=deadline, timeout_seconds=timeout_seconds)
            body.setdefault("jobReference", job_ref)
            error = (body.get("status") or {}).get("errorResult")
            if not isinstance(error, dict) or str(error.get("reason")) not in RETRY_REASONS or run >= JOB_ATTEMPTS:
                return body, run
            delay = self.retry.delay(run)
            if time.monotonic() + delay >= deadline:
                return body, run
            log.warning(
                "BigQuery job %s failed (%s: %s); running it again (%d of %d)",
                job_ref["jobId"], error.get("reason"), str(error.get("message"))[:MAX_MESSAGE], run + 1, JOB_ATTEMPTS,
            )  # fmt: skip
            self.retry.wait(delay)
            run += 1

    def _job_denied(self) -> str:
        return (
            f"{self.client_email} may not run this job in project {self.project}: loading needs BigQuery "
            "Data Editor (roles/bigquery.dataEditor) and Job User (roles/bigquery.jobUser)."
        )

    def _start_job(
        self, job_ref: dict[str, str], configuration: dict[str, Any], *, media: bytes | None, deadline: float
    ) -> dict[str, Any]:
        """jobs.insert: the Job resource BigQuery answered with (a 409 for our jobId: the job, got)."""
        job = {"jobReference": job_ref, "configuration": configuration}
        path = f"{self._project_path()}/jobs"
        if media is None:
            response, body = self._api("POST", path, json_body=job, idempotent=True, deadline=deadline)
        elif len(media) > self.resumable_threshold:
            response, body = self._upload_resumable(path, job, media, deadline=deadline)
        else:
            boundary = f"dalgo-{uuid.uuid4().hex}"
            while boundary.encode() in media:
                boundary = f"dalgo-{uuid.uuid4().hex}"
            content = b"".join(
                [
                    f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                    json.dumps(job).encode(),
                    f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
                    media,
                    f"\r\n--{boundary}--\r\n".encode(),
                ]
            )
            response, body = self._api(
                "POST",
                path,
                base_url=self._upload_url,
                params={"uploadType": "multipart"},
                content=content,
                content_type=f"multipart/related; boundary={boundary}",
                idempotent=True,
                deadline=deadline,
            )
        if response.status_code == 409:
            # "Already Exists" for the jobId chosen above: a try whose answer was lost created it.
            log.info("BigQuery job %s already exists (an earlier try created it); waiting for it", job_ref["jobId"])
            response, body = self._api(
                "GET", f"{path}/{quote(job_ref['jobId'], safe='')}", params={"location": job_ref["location"]},
                deadline=deadline,
            )  # fmt: skip
        if response.status_code >= 400:
            self._fail(response, denied=self._job_denied())
        return body

    def _wait_for_job(
        self, job_ref: dict[str, str], body: dict[str, Any], *, deadline: float, timeout_seconds: float
    ) -> dict[str, Any]:
        """jobs.get until the job is DONE; past the deadline it is cancelled and QueryTimeout raised."""
        job_id = str((body.get("jobReference") or {}).get("jobId") or job_ref["jobId"])
        path = f"{self._project_path()}/jobs/{quote(job_id, safe='')}"
        delay = 0.05
        while str((body.get("status") or {}).get("state") or "").upper() != "DONE":
            if time.monotonic() >= deadline:
                self._cancel({**job_ref, "jobId": job_id})
                raise QueryTimeout(f"The BigQuery job did not finish within {timeout_seconds:g} s; it was cancelled.")
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 1.0)
            response, body = self._api("GET", path, params={"location": job_ref["location"]}, deadline=deadline)
            if response.status_code >= 400:
                self._fail(response, denied=self._job_denied())
        return body

    def _upload_resumable(
        self, path: str, job: dict[str, Any], media: bytes, *, deadline: float
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """jobs.insert by the resumable upload protocol (https://cloud.google.com/bigquery/docs/reference/api-uploads):
        POST ?uploadType=resumable with the Job as JSON opens a session, whose URI comes back in the
        Location header; PUTs send the data in chunks (each but the last a multiple of 256 KiB) with
        Content-Range "bytes first-last/total". 308 Resume Incomplete answers a chunk short of the end,
        its Range header ("bytes=0-n") saying what the session holds; the last chunk is answered with
        the Job resource. After a 5xx or no answer, an empty PUT with Content-Range "bytes */total"
        asks the session what it holds (308 with Range, or the Job if it is complete), and the upload
        goes on from there. Returns the final answer (the Job, or an error the caller reports)."""
        total = len(media)
        response, body = self._api(
            "POST",
            path,
            base_url=self._upload_url,
            params={"uploadType": "resumable"},
            json_body=job,
            headers={"X-Upload-Content-Type": "application/octet-stream", "X-Upload-Content-Length": str(total)},
            idempotent=True,  # only opens a session: the job is created when the last byte arrives
            deadline=deadline,
        )
        if response.status_code >= 400:
            return response, body
        session = response.headers.get("Location")
        if not session:
            raise WarehouseError("BigQuery opened no resumable upload session (its answer had no Location).")
        chunk = max(UPLOAD_GRANULE, self.upload_chunk // UPLOAD_GRANULE * UPLOAD_GRANULE)
        backoff = _Backoff(self.retry, deadline=deadline)
        offset: int | None = 0  # where the next chunk starts; None: unknown, ask the session
        held = 0  # the most the session has said it holds
        while True:
            if offset is None or offset >= total:
                headers = {"Content-Range": f"bytes */{total}"}
                content = b""
            else:
                end = min(offset + chunk, total)
                headers = {"Content-Range": f"bytes {offset}-{end - 1}/{total}"}
                content = media[offset:end]
            try:
                response, body = self._api_once(
                    "PUT", "", base_url=session, headers=headers, content=content,
                    content_type="application/octet-stream",
                )  # fmt: skip
            except _NoAnswer as exc:
                if not backoff.again("resumable upload", exc.detail):
                    raise
                offset = None
                continue
            if response.status_code in (200, 201):
                return response, body
            if response.status_code == 308:
                received = _received(response)
                if received > held:
                    held = received
                    backoff.progressed()
                if received < total:
                    offset = received
                    continue
                why = "the session holds every byte but did not answer with the job"
            elif retryable(response):
                why = f"HTTP {response.status_code}"
            else:
                return response, body  # e.g. 404/410: the session expired; 4xx: refused
            if not backoff.again("resumable upload", why):
                if response.status_code == 308:
                    raise WarehouseUnreachable(f"The BigQuery upload did not complete: {why}.")
                return response, body
            offset = None

    # --- authentication ---------------------------------------------------------------------------

    def _assertion(self, now: int) -> str:
        header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
        if self._key_id:
            header["kid"] = self._key_id
        claims = {
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self._token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _access_token(self) -> str:
        with self._token_lock:
            now = _wall_clock()
            if self._token and now < self._token_expires_at - TOKEN_REFRESH_MARGIN:
                return self._token
            self._token = None
            form = {"grant_type": JWT_BEARER, "assertion": self._assertion(int(now))}
            response = self._send("POST", self._token_uri, data=form, where="Google's token endpoint")
            if response.status_code >= 500:
                raise WarehouseUnreachable(
                    f"Google's token endpoint is unavailable (HTTP {response.status_code}); try again later."
                )
            body = self._json(response)
            if response.status_code >= 400 or not isinstance(body.get("access_token"), str):
                error = str(body.get("error") or f"HTTP {response.status_code}")
                description = str(body.get("error_description") or "")[:MAX_MESSAGE]
                detail = f"{error}: {description}" if description else error
                raise WarehouseAuthFailed(
                    f"The service account key was refused: {detail}. Check that the key of "
                    f"{self.client_email} is current (not deleted or disabled) and that this machine's clock is right.",
                    fields={FIELD_PREFIX + "service_account_json": "Refused by Google."},
                )
            try:
                lifetime = float(body.get("expires_in") or 3600)
            except (TypeError, ValueError):
                lifetime = 3600.0
            self._token = str(body["access_token"])
            self._token_expires_at = now + lifetime
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    # --- HTTP -------------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        where: str = "BigQuery",
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One request; transport failures become WarehouseUnreachable (no headers or body in the message)."""
        request_timeout = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT) if timeout else httpx.USE_CLIENT_DEFAULT
        try:
            return self._http.request(
                method,
                url,
                headers=headers,
                params=params,
                json=json_body,
                data=data,
                content=content,
                timeout=request_timeout,
            )
        except httpx.TimeoutException as exc:
            phase = "connect to" if isinstance(exc, httpx.ConnectTimeout) else "get an answer from"
            raise WarehouseUnreachable(f"Could not {phase} {where} in time ({type(exc).__name__}).") from None
        except httpx.HTTPError as exc:
            raise WarehouseUnreachable(f"Could not reach {where}: {type(exc).__name__}: {exc}"[:MAX_MESSAGE]) from None

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _api(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        deadline: float | None = None,
        **request: Any,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """An authenticated BigQuery call (`_api_once`, which takes `request`). A request that is
        safe to repeat (GET and DELETE, or as `idempotent` says) is retried under the client's
        RetryPolicy, within `deadline` (a time.monotonic() value) too, when it gets no answer or a
        transient error; the last answer is returned (or the last _NoAnswer raised) when tries or
        time run out."""
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        backoff = _Backoff(self.retry, deadline=deadline)
        what = f"{method} {path}"
        while True:
            try:
                response, body = self._api_once(method, path, **request)
            except _NoAnswer as exc:
                if safe and backoff.again(what, exc.detail):
                    continue
                raise
            if safe and retryable(response) and backoff.again(what, f"HTTP {response.status_code}"):
                continue
            return response, body

    def _api_once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        timeout: float | None = None,
        base_url: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """One authenticated BigQuery request: a 401 on a cached token fetches a new token and sends
        it again, once. No answer raises _NoAnswer."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in (1, 2):
            token = self._access_token()
            sent = {**(headers or {}), "Authorization": f"Bearer {token}"}
            if content_type:
                sent["Content-Type"] = content_type
            try:
                response = self._send(
                    method,
                    f"{base_url or self._base_url}{path}",
                    headers=sent,
                    params=query or None,  # None keeps a query string already in the URL (upload sessions)
                    json_body=json_body,
                    content=content,
                    timeout=timeout,
                )
            except WarehouseUnreachable as exc:
                raise _NoAnswer(exc.detail) from None
            if response.status_code == 401 and attempt == 1:
                self._forget_token(token)
                continue
            break
        log.debug("BigQuery %s %s -> %s", method, path or "(upload session)", response.status_code)
        return response, self._json(response)

    def _fail(self, response: httpx.Response, *, missing: str | None = None, denied: str | None = None) -> NoReturn:
        message, reasons = _api_error(response)
        message = message[:MAX_MESSAGE]
        status = response.status_code
        if status == 401:
            raise WarehouseAuthFailed(f"BigQuery did not accept the service account's credentials: {message}")
        if retryable(response):
            raise WarehouseUnreachable(f"BigQuery is temporarily unavailable (HTTP {status}): {message}")
        raise _refusal(message, reasons, status=status, missing=missing, denied=denied)

    def _project_path(self) -> str:
        return f"/projects/{quote(self.project, safe='')}"

    # --- jobs -------------------------------------------------------------------------------------

    def _query_failed(self, response: httpx.Response, *, for_test: bool) -> NoReturn:
        message, _ = _api_error(response)
        if for_test or "bigquery.jobs.create" in message:
            denied = (
                f"{self.client_email} may not run queries in project {self.project}: it needs "
                "bigquery.jobs.create (BigQuery Job User, roles/bigquery.jobUser) on the project."
            )
        else:
            denied = f"{self.client_email} may not read what the query reads: grant it {NEEDED_ROLES}."
        self._fail(response, missing=None, denied=denied)

    def _run(
        self, sql: str, *, timeout_seconds: float, page_rows: int, for_test: bool = False
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Start a query job with jobs.query and wait for it: (the first page of results, the job's
        reference). For reads, whose rows come back with the answer; statements go by run_statement.

        Waits in long polls of at most LONG_POLL_MS. Past timeout_seconds the job is cancelled and
        QueryTimeout raised; BigQuery also stops it itself at jobTimeoutMs.
        """
        timeout_seconds = max(float(timeout_seconds), 0.001)
        deadline = time.monotonic() + timeout_seconds
        wait_ms = self._wait_ms(deadline)
        request: dict[str, Any] = {
            "query": sql,
            "useLegacySql": False,
            "location": self.location,
            "timeoutMs": wait_ms,
            "maxResults": max(page_rows, 1),
            "jobTimeoutMs": str(max(int(timeout_seconds * 1000), 1)),
            "requestId": str(uuid.uuid4()),
        }
        if self.dataset:
            request["defaultDataset"] = {"projectId": self.project, "datasetId": self.dataset}
        try:
            # Safe to repeat: the requestId makes BigQuery answer a repeat with the first request's job.
            response, body = self._api(
                "POST", f"{self._project_path()}/queries", json_body=request, timeout=wait_ms / 1000 + READ_TIMEOUT,
                idempotent=True, deadline=deadline,
            )  # fmt: skip
        except WarehouseUnreachable:
            if time.monotonic() >= deadline:
                raise QueryTimeout(f"The query did not finish within {timeout_seconds:g} s.") from None
            raise
        if response.status_code >= 400:
            self._query_failed(response, for_test=for_test)
        reference = body.get("jobReference") or {}
        job = {
            "jobId": str(reference.get("jobId") or ""),
            "projectId": str(reference.get("projectId") or self.project),
            "location": str(reference.get("location") or self.location),
        }
        delay = 0.05
        while not body.get("jobComplete"):
            if not job["jobId"]:
                raise WarehouseError("BigQuery did not say which job runs the query.")
            if time.monotonic() >= deadline:
                self._cancel(job)
                raise QueryTimeout(f"The query did not finish within {timeout_seconds:g} s; it was cancelled.")
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 1.0)
            if time.monotonic() >= deadline:
                continue
            try:
                wait_ms = self._wait_ms(deadline)
                body = self._results(job, max_results=page_rows, wait_ms=wait_ms, for_test=for_test, deadline=deadline)
            except WarehouseUnreachable:
                if time.monotonic() < deadline:
                    raise
                self._cancel(job)
                raise QueryTimeout(f"The query did not finish within {timeout_seconds:g} s; cancelled.") from None
        # A failed job answers with an HTTP error (handled above); "errors" in a complete answer are warnings.
        return body, job

    def _wait_ms(self, deadline: float) -> int:
        return max(1, min(LONG_POLL_MS, int((deadline - time.monotonic()) * 1000)))

    def _results(
        self,
        job: dict[str, str],
        *,
        max_results: int,
        page_token: str | None = None,
        wait_ms: int | None = None,
        for_test: bool = False,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """jobs.getQueryResults: the job's state, and a page of rows once it is complete."""
        response, body = self._api(
            "GET",
            f"/projects/{quote(job['projectId'], safe='')}/queries/{quote(job['jobId'], safe='')}",
            params={
                "location": job["location"],
                "maxResults": max(max_results, 1),
                "pageToken": page_token,
                "timeoutMs": wait_ms,
            },
            timeout=(wait_ms / 1000 + READ_TIMEOUT) if wait_ms else None,
            deadline=deadline,
        )
        if response.status_code >= 400:
            self._query_failed(response, for_test=for_test)
        return body

    def _cancel(self, job: dict[str, str]) -> None:
        """jobs.cancel, best effort: the caller is already reporting the timeout."""
        try:
            response, _ = self._api(
                "POST",
                f"/projects/{quote(job['projectId'], safe='')}/jobs/{quote(job['jobId'], safe='')}/cancel",
                params={"location": job["location"]},
            )
        except WarehouseError as exc:
            log.warning("Could not cancel BigQuery job %s: %s", job["jobId"], exc.detail)
            return
        if response.status_code >= 400:
            log.warning("Could not cancel BigQuery job %s: HTTP %s", job["jobId"], response.status_code)


class BigQueryAdapter(BigQueryClient):
    """A WarehouseAdapter for one BigQuery project, queried as a service account in one location."""

    dialect = "bigquery"
    # Someone waits on the answer (Explore, a connection test): give up sooner than the loader does.
    default_retry = RetryPolicy(attempts=3, deadline=15.0)

    # --- protocol ---------------------------------------------------------------------------------

    def test(self) -> str:
        self._access_token()
        datasets = self._datasets(for_test=True)
        if self.dataset and self.dataset not in datasets:
            raise WarehouseMissing(
                f"Dataset {self.dataset} not found in project {self.project} (location {self.location}) "
                f"or not visible to {self.client_email}.",
                fields={FIELD_PREFIX + "dataset": "Not found."},
            )
        self._run("SELECT 1", timeout_seconds=30.0, page_rows=1, for_test=True)
        count = len(datasets)
        noun = "dataset" if count == 1 else "datasets"
        return f"Connected to project {self.project} ({count} {noun} in {self.location})."

    def catalog(self) -> Catalog:
        tables: list[Table] = []
        for dataset in self._datasets():
            for table_id, table_type in self._tables(dataset):
                columns = self._columns(dataset, table_id)
                if columns is None:  # dropped between the listing and now
                    continue
                kind = "view" if table_type in VIEW_TYPES else "table"
                tables.append(Table(schema=dataset, name=table_id, kind=kind, columns=columns))
        return Catalog(tables=tuple(tables))

    def query(self, sql: str, *, timeout_seconds: float, max_rows: int) -> QueryResult:
        wanted = max(max_rows, 0) + 1  # one more than allowed tells whether there were more
        first, job = self._run(sql, timeout_seconds=timeout_seconds, page_rows=min(PAGE_ROWS, wanted))
        fields = self._fields(first)
        convert = row_converter(fields)
        rows = [convert(row) for row in first.get("rows") or []]
        total = int(first.get("totalRows") or 0)
        token = first.get("pageToken")
        while token and len(rows) < wanted:
            page = self._results(job, page_token=token, max_results=min(PAGE_ROWS, wanted - len(rows)))
            rows.extend(convert(row) for row in page.get("rows") or [])
            token = page.get("pageToken")
        truncated = len(rows) > max_rows or total > max_rows
        return QueryResult(columns=[str(f.get("name")) for f in fields], rows=rows[:max_rows], truncated=truncated)

    def stream(self, sql: str, *, timeout_seconds: float, batch_size: int = 10_000) -> StreamedResult:
        page_rows = max(1, min(batch_size, PAGE_ROWS))
        first, job = self._run(sql, timeout_seconds=timeout_seconds, page_rows=page_rows)
        fields = self._fields(first)
        convert = row_converter(fields)

        def batches(page: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
            while True:
                rows = [convert(row) for row in page.get("rows") or []]
                token = page.get("pageToken")
                del page  # the previous page is not kept while the next one is fetched
                if rows:
                    yield rows
                if not token:
                    return
                page = self._results(job, page_token=token, max_results=page_rows)

        return StreamedResult(columns=[str(f.get("name")) for f in fields], batches=batches(first))

    def export_csv(self, sql: str, *, timeout_seconds: float) -> Iterator[bytes]:
        """BigQuery has no CSV to stream back to us: rows are written as CSV page by page."""
        from dalgo.warehouses.values import rows_to_csv

        streamed = self.stream(sql, timeout_seconds=timeout_seconds)
        yield from rows_to_csv(streamed.columns, streamed.batches)

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()  # one HTTP client per adapter already

    # --- catalog ----------------------------------------------------------------------------------

    def _datasets(self, *, for_test: bool = False) -> list[str]:
        """Dataset ids in the project that live in this adapter's location (others cannot be queried here)."""
        found: list[str] = []
        elsewhere: dict[str, str] = {}
        token: str | None = None
        while True:
            response, body = self._api(
                "GET", f"{self._project_path()}/datasets", params={"maxResults": LIST_PAGE, "pageToken": token}
            )
            if response.status_code >= 400:
                self._fail(
                    response,
                    missing=f"Project {self.project} not found or not visible to {self.client_email}.",
                    denied=(
                        f"{self.client_email} may not list the datasets of project {self.project}: "
                        f"grant it {NEEDED_ROLES} on the project."
                    ),
                )
            for entry in body.get("datasets") or []:
                ref = entry.get("datasetReference") or {}
                dataset_id = str(ref.get("datasetId") or str(entry.get("id", "")).rpartition(":")[2])
                where = str(entry.get("location") or "")
                if where and where.lower() != self.location.lower():
                    elsewhere[dataset_id] = where
                    continue
                found.append(dataset_id)
            token = body.get("nextPageToken")
            if not token:
                break
        if for_test and self.dataset in elsewhere:
            raise WarehouseMissing(
                f"Dataset {self.dataset} is in location {elsewhere[self.dataset]}, not {self.location}: "
                "set the location to the dataset's.",
                fields={FIELD_PREFIX + "location": f"The dataset is in {elsewhere[self.dataset]}."},
            )
        return found

    def _tables(self, dataset: str) -> Iterator[tuple[str, str]]:
        token: str | None = None
        path = f"{self._project_path()}/datasets/{quote(dataset, safe='')}/tables"
        while True:
            response, body = self._api("GET", path, params={"maxResults": LIST_PAGE, "pageToken": token})
            if response.status_code >= 400:
                self._fail(
                    response,
                    missing=f"Dataset {dataset} not found in project {self.project}.",
                    denied=f"{self.client_email} may not list the tables of {dataset}: grant it {NEEDED_ROLES}.",
                )
            for entry in body.get("tables") or []:
                ref = entry.get("tableReference") or {}
                if ref.get("tableId"):
                    yield str(ref["tableId"]), str(entry.get("type") or "TABLE").upper()
            token = body.get("nextPageToken")
            if not token:
                return

    def _columns(self, dataset: str, table: str) -> tuple[Column, ...] | None:
        path = f"{self._project_path()}/datasets/{quote(dataset, safe='')}/tables/{quote(table, safe='')}"
        response, body = self._api("GET", path)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            self._fail(
                response,
                denied=f"{self.client_email} may not read the schema of {dataset}.{table}: grant it {NEEDED_ROLES}.",
            )
        fields = (body.get("schema") or {}).get("fields") or []
        return tuple(
            Column(
                name=str(field.get("name")),
                type=type_name(field),
                kind=column_kind(field),
                nullable=str(field.get("mode") or "NULLABLE").upper() != "REQUIRED",
            )
            for field in fields
        )

    def _fields(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        fields = (body.get("schema") or {}).get("fields") or []
        return [f for f in fields if isinstance(f, dict)]
