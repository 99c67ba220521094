"""The BigQuery adapter against a fake BigQuery at the HTTP edge.

BigQuery cannot be reached from the test machine, so these tests replay its documented contract
with `httpx.MockTransport`: `FakeBigQuery` answers the requests the adapter makes with the shapes
documented for Google OAuth 2.0's service-account flow (a JWT bearer assertion POSTed to the key's
token_uri) and for BigQuery REST v2 (datasets.list, tables.list with pageToken, tables.get with
RECORD/REPEATED schema fields, jobs.query answering jobComplete false, jobs.getQueryResults pages
with pageToken, jobs.cancel, and error bodies {"error": {"code", "message", "errors": [{"reason"}],
"status"}}). It records every request so the tests can check what was sent: the RS256 signature of
the assertion against the public half of a key pair made here, the scope, the location, standard SQL.
Failures BigQuery documents (https://cloud.google.com/bigquery/docs/error-messages) are injected with
`Faults` from tests/bigquery_support.py: 5xx backendError/internalError and 429/403
rateLimitExceeded (transient), a request left without an answer, and the errors that are not
transient (invalid, accessDenied, quotaExceeded, notFound). The adapter waits out its back-offs by
recording them in `fake.sleeps`.
What it cannot prove is that Google still behaves as documented; that needs a real project.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from dalgo.warehouses.adapters import bigquery
from dalgo.warehouses.adapters.base import (
    ColumnKind,
    QueryTimeout,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseMissing,
    WarehousePrivileges,
    WarehouseUnreachable,
)
from dalgo.warehouses.adapters.bigquery import BigQueryAdapter, RetryPolicy
from tests import bigquery_support as bigquery_faults
from tests.bigquery_support import (
    INVALID_SIGNATURE,
    TOKEN_URI,
    Faults,
    b64decode,
    error_body,
    pem,
    service_account_key,
    token_assertion,
)

PROJECT = "ngo-data"
EMAIL = "dalgo@ngo-data.iam.gserviceaccount.com"
API = "https://bigquery.googleapis.com/bigquery/v2"


@pytest.fixture(scope="module")
def key_pair() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_info(key_pair: rsa.RSAPrivateKey) -> dict[str, Any]:
    return service_account_key(key_pair, project=PROJECT, email=EMAIL, client_id="1234567890",
                               auth_uri="https://accounts.google.com/o/oauth2/auth")  # fmt: skip


def cell(value: Any) -> dict[str, Any]:
    return {"v": value}


def row(*values: Any) -> dict[str, Any]:
    return {"f": [cell(v) for v in values]}


class FakeBigQuery:
    """The documented request/response contract of Google OAuth 2.0 and BigQuery REST v2, in memory."""

    def __init__(self, public_key: rsa.RSAPublicKey) -> None:
        self.public_key = public_key
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self.token_error: tuple[int, dict[str, Any]] | None = None
        self.expires_in = 3599
        # (method, path regex) -> (status, body); checked before the normal routes
        self.failures: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.datasets: list[tuple[str, str]] = [("analytics", "US"), ("staging", "US"), ("eu_data", "EU")]
        self.dataset_page = 2
        self.tables: dict[str, list[tuple[str, str]]] = {
            "analytics": [("beneficiaries", "TABLE"), ("visits", "TABLE"), ("summary", "VIEW")],
            "staging": [("raw_forms", "EXTERNAL"), ("mv_counts", "MATERIALIZED_VIEW"), ("gone", "TABLE")],
        }
        self.table_page = 2
        self.schemas: dict[str, list[dict[str, Any]]] = {
            "beneficiaries": [
                {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
                {"name": "name", "type": "STRING", "mode": "NULLABLE"},
                {"name": "score", "type": "FLOAT"},
                {"name": "amount", "type": "NUMERIC"},
                {"name": "big", "type": "BIGNUMERIC"},
                {"name": "active", "type": "BOOLEAN"},
                {"name": "born", "type": "DATE"},
                {"name": "seen_at", "type": "TIMESTAMP"},
                {"name": "local_at", "type": "DATETIME"},
                {"name": "opens", "type": "TIME"},
                {"name": "photo", "type": "BYTES"},
                {"name": "where", "type": "GEOGRAPHY"},
                {"name": "extra", "type": "JSON"},
                {"name": "tags", "type": "STRING", "mode": "REPEATED"},
                {
                    "name": "address",
                    "type": "RECORD",
                    "mode": "NULLABLE",
                    "fields": [{"name": "city", "type": "STRING"}, {"name": "pin", "type": "INTEGER"}],
                },
                {"name": "legacy_i", "type": "INT64"},
                {"name": "legacy_f", "type": "FLOAT64"},
                {"name": "flag", "type": "BOOL"},
                {"name": "s", "type": "STRUCT", "fields": [{"name": "x", "type": "INT64"}]},
            ],
        }
        # jobs: the result, and how many polls answer jobComplete false before it completes
        self.result_schema: list[dict[str, Any]] = [{"name": "n", "type": "INTEGER"}]
        self.result_rows: list[dict[str, Any]] = [row(str(i)) for i in range(5)]
        self.incomplete_polls = 1
        self.never_completes = False
        self.job_error: dict[str, Any] | None = None
        self.jobs: dict[str, int] = {}
        self.cancelled: list[str] = []
        self.faults = Faults()
        self.sleeps: list[float] = []

    # --- helpers for assertions --------------------------------------------------------------------

    def calls(self, method: str, pattern: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.url.path)]

    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "bigquery.googleapis.com"]

    # --- the handler -------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URI:
            return self.token(request)
        assert str(request.url).startswith(API)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.issued:
            return httpx.Response(
                401,
                json=error_body(
                    401,
                    "Request is missing required authentication credential.",
                    "required",
                    "UNAUTHENTICATED",
                ),
            )
        path = request.url.path.removeprefix("/bigquery/v2")
        for (method, pattern), (status, body) in self.failures.items():
            if request.method == method and re.fullmatch(pattern, path):
                return httpx.Response(status, json=body)
        routes = [
            ("GET", rf"/projects/{PROJECT}/datasets", "datasets.list", self.list_datasets),
            ("GET", rf"/projects/{PROJECT}/datasets/([^/]+)/tables", "tables.list", self.list_tables),
            ("GET", rf"/projects/{PROJECT}/datasets/([^/]+)/tables/([^/]+)", "tables.get", self.get_table),
            ("POST", rf"/projects/{PROJECT}/queries", "jobs.query", self.query),
            ("GET", rf"/projects/{PROJECT}/queries/([^/]+)", "jobs.getQueryResults", self.get_query_results),
            ("POST", rf"/projects/{PROJECT}/jobs/([^/]+)/cancel", "jobs.cancel", self.cancel),
        ]
        answer = self.faults.route(request, path, routes)
        if answer is not None:
            return answer
        return httpx.Response(
            404, json=error_body(404, f"Not found: Project {path.split('/')[2]}", "notFound", "NOT_FOUND")
        )

    def token(self, request: httpx.Request) -> httpx.Response:
        """oauth2.googleapis.com/token: verifies the JWT bearer assertion like Google does."""
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assertion = token_assertion(request, self.public_key)
        if assertion is None:
            return httpx.Response(400, json=INVALID_SIGNATURE)
        header, claims = assertion
        assert header["alg"] == "RS256"
        assert claims["iss"] == EMAIL and claims["aud"] == TOKEN_URI
        assert 0 < claims["exp"] - claims["iat"] <= 3600
        if self.token_error:
            status, body = self.token_error
            return httpx.Response(status, json=body)
        token = f"ya29.secret-access-token-{len(self.issued)}"
        self.issued.append(token)
        return httpx.Response(200, json={"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"})

    def _page(self, items: list[Any], request: httpx.Request, size: int) -> tuple[list[Any], str | None]:
        start = int(request.url.params.get("pageToken") or 0)
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    def list_datasets(self, request: httpx.Request) -> httpx.Response:
        page, token = self._page(self.datasets, request, self.dataset_page)
        body: dict[str, Any] = {"kind": "bigquery#datasetList", "etag": "x"}
        if page:
            body["datasets"] = [
                {
                    "kind": "bigquery#dataset",
                    "id": f"{PROJECT}:{name}",
                    "datasetReference": {"datasetId": name, "projectId": PROJECT},
                    "location": location,
                }
                for name, location in page
            ]
        if token:
            body["nextPageToken"] = token
        return httpx.Response(200, json=body)

    def list_tables(self, request: httpx.Request, dataset: str) -> httpx.Response:
        if dataset not in self.tables:
            return httpx.Response(
                404, json=error_body(404, f"Not found: Dataset {PROJECT}:{dataset}", "notFound", "NOT_FOUND")
            )
        page, token = self._page(self.tables[dataset], request, self.table_page)
        body: dict[str, Any] = {"kind": "bigquery#tableList", "totalItems": len(self.tables[dataset])}
        body["tables"] = [
            {
                "kind": "bigquery#table",
                "id": f"{PROJECT}:{dataset}.{name}",
                "tableReference": {"projectId": PROJECT, "datasetId": dataset, "tableId": name},
                "type": kind,
            }
            for name, kind in page
        ]
        if token:
            body["nextPageToken"] = token
        return httpx.Response(200, json=body)

    def get_table(self, request: httpx.Request, dataset: str, table: str) -> httpx.Response:
        if table == "gone":
            return httpx.Response(
                404, json=error_body(404, f"Not found: Table {PROJECT}:{dataset}.{table}", "notFound", "NOT_FOUND")
            )
        fields = self.schemas.get(table, [{"name": "id", "type": "INTEGER"}])
        return httpx.Response(
            200,
            json={
                "kind": "bigquery#table",
                "tableReference": {"projectId": PROJECT, "datasetId": dataset, "tableId": table},
                "schema": {"fields": fields},
                "type": "TABLE",
            },
        )

    def _results(self, job_id: str, request: httpx.Request, start: int, size: int) -> dict[str, Any]:
        end = start + size
        body: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": {"projectId": PROJECT, "jobId": job_id, "location": "US"},
            "jobComplete": True,
            "schema": {"fields": self.result_schema},
            "totalRows": str(len(self.result_rows)),
            "rows": self.result_rows[start:end],
        }
        if not body["rows"]:
            del body["rows"]
        if end < len(self.result_rows):
            body["pageToken"] = f"{job_id}:{end}"
        return body

    def _incomplete(self, job_id: str) -> dict[str, Any]:
        return {
            "kind": "bigquery#queryResponse",
            "jobReference": {"projectId": PROJECT, "jobId": job_id, "location": "US"},
            "jobComplete": False,
        }

    def query(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "syntax" in body["query"]:
            return httpx.Response(
                400,
                json=error_body(
                    400, "Syntax error: Unexpected identifier at [1:1]", "invalidQuery", "INVALID_ARGUMENT"
                ),
            )
        job_id = f"job_{len(self.jobs)}"
        self.jobs[job_id] = self.incomplete_polls
        if self.never_completes or self.incomplete_polls:
            return httpx.Response(200, json=self._incomplete(job_id))
        return httpx.Response(200, json=self._results(job_id, request, 0, int(body.get("maxResults", 10**9))))

    def get_query_results(self, request: httpx.Request, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return httpx.Response(404, json=error_body(404, f"Not found: Job {job_id}", "notFound", "NOT_FOUND"))
        params = request.url.params
        if self.never_completes:
            return httpx.Response(200, json=self._incomplete(job_id))
        if self.jobs[job_id] > 1:
            self.jobs[job_id] -= 1
            return httpx.Response(200, json=self._incomplete(job_id))
        if self.job_error:
            return httpx.Response(400, json=self.job_error)
        token = params.get("pageToken")
        start = int(token.split(":")[1]) if token else 0
        return httpx.Response(200, json=self._results(job_id, request, start, int(params.get("maxResults", 10**9))))

    def cancel(self, request: httpx.Request, job_id: str) -> httpx.Response:
        self.cancelled.append(job_id)
        return httpx.Response(200, json={"kind": "bigquery#jobCancelResponse", "job": {"id": job_id}})


@pytest.fixture
def fake(key_pair: rsa.RSAPrivateKey) -> FakeBigQuery:
    return FakeBigQuery(key_pair.public_key())


@pytest.fixture
def adapter(fake: FakeBigQuery, key_info: dict[str, Any]) -> BigQueryAdapter:
    return BigQueryAdapter(
        service_account_info=key_info, project=PROJECT, location="US", transport=httpx.MockTransport(fake),
        retry=dataclasses.replace(BigQueryAdapter.default_retry, sleep=fake.sleeps.append),
    )  # fmt: skip


def _json(request: httpx.Request) -> dict[str, Any]:
    return dict(json.loads(request.content))


# --- the service account key --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "authorized_user"}, "not a service account key"),
        ({"client_email": None}, "no client_email"),
        ({"private_key": ""}, "no private_key"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"}, "not a PEM"),
        ({"token_uri": None}, "no token_uri"),
        ({"token_uri": "http://oauth2.googleapis.com/token"}, "https"),
    ],
)
def test_a_bad_key_is_refused_up_front_with_the_field(
    key_info: dict[str, Any], change: dict[str, Any], reason: str
) -> None:
    info = {**key_info, **change}
    with pytest.raises(WarehouseError) as caught:
        BigQueryAdapter(service_account_info=info, project=PROJECT, location="US")
    assert reason in caught.value.fields["config.service_account_json"]
    assert reason in caught.value.detail
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_non_rsa_key_or_non_object_is_refused(key_info: dict[str, Any]) -> None:
    info = {**key_info, "private_key": pem(ec.generate_private_key(ec.SECP256R1()))}
    with pytest.raises(WarehouseError) as caught:
        BigQueryAdapter(service_account_info=info, project=PROJECT, location="US")
    assert "RSA" in caught.value.fields["config.service_account_json"]
    with pytest.raises(WarehouseError) as caught:
        BigQueryAdapter(service_account_info="{}", project=PROJECT, location="US")  # type: ignore[arg-type]
    assert "config.service_account_json" in caught.value.fields


def test_project_and_location_are_required(key_info: dict[str, Any]) -> None:
    with pytest.raises(WarehouseError) as caught:
        BigQueryAdapter(service_account_info=key_info, project=" ", location="US")
    assert "config.project" in caught.value.fields
    with pytest.raises(WarehouseError) as caught:
        BigQueryAdapter(service_account_info=key_info, project=PROJECT, location="")
    assert "config.location" in caught.value.fields


def test_the_adapter_repr_shows_no_secret(adapter: BigQueryAdapter) -> None:
    assert "PRIVATE" not in repr(adapter) and EMAIL in repr(adapter)
    assert adapter.dialect == "bigquery"


# --- OAuth 2.0 ------------------------------------------------------------------------------------


def test_the_jwt_assertion_is_rs256_signed_with_the_key_and_asks_for_the_bigquery_scope(
    adapter: BigQueryAdapter, fake: FakeBigQuery, key_pair: rsa.RSAPrivateKey
) -> None:
    adapter.test()
    [token_request] = [r for r in fake.requests if str(r.url) == TOKEN_URI]
    form = {k: v[0] for k, v in parse_qs(token_request.content.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
    assert json.loads(b64decode(header_b64)) == {"alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef"}
    claims = json.loads(b64decode(claims_b64))
    assert claims["iss"] == EMAIL
    assert claims["scope"] == "https://www.googleapis.com/auth/bigquery"
    assert claims["aud"] == TOKEN_URI
    assert claims["exp"] - claims["iat"] == 3600
    # verifies with the public half of the key pair (raises InvalidSignature otherwise)
    key_pair.public_key().verify(
        b64decode(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    # every API call carries the access token
    assert all(r.headers["Authorization"] == f"Bearer {fake.issued[0]}" for r in fake.api_calls())


def test_the_token_is_reused_until_shortly_before_it_expires(
    adapter: BigQueryAdapter, fake: FakeBigQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(bigquery, "_wall_clock", lambda: now)
    adapter.test()
    adapter.catalog()
    adapter.query("SELECT 1", timeout_seconds=5, max_rows=10)
    assert len(fake.issued) == 1
    now += 3599 - 301  # still more than 5 minutes left
    adapter.query("SELECT 1", timeout_seconds=5, max_rows=10)
    assert len(fake.issued) == 1
    now += 2  # within the refresh margin: a new token
    adapter.query("SELECT 1", timeout_seconds=5, max_rows=10)
    assert len(fake.issued) == 2
    assert fake.api_calls()[-1].headers["Authorization"] == f"Bearer {fake.issued[1]}"


def test_a_401_on_a_cached_token_fetches_a_new_one_and_retries_once(
    adapter: BigQueryAdapter, fake: FakeBigQuery
) -> None:
    adapter.test()
    fake.issued.remove(fake.issued[0])  # revoked on Google's side
    fake.issued.append("placeholder")
    assert adapter.query("SELECT 1", timeout_seconds=5, max_rows=10).columns == ["n"]
    assert len([r for r in fake.requests if str(r.url) == TOKEN_URI]) == 2


def test_a_refused_key_is_an_auth_failure_without_secrets(
    adapter: BigQueryAdapter, fake: FakeBigQuery, key_info: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.token_error = (400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"})
    with pytest.raises(WarehouseAuthFailed) as caught:
        adapter.test()
    message = str(caught.value)
    assert message.startswith("The service account key was refused: invalid_grant: Invalid grant: account not found")
    assert EMAIL in message
    assert caught.value.fields == {"config.service_account_json": "Refused by Google."}
    assertion = parse_qs(fake.requests[-1].content.decode())["assertion"][0]
    for secret in (assertion, key_info["private_key"], "BEGIN PRIVATE KEY"):
        assert secret not in message and secret not in caplog.text


def test_a_key_signed_by_another_key_pair_is_refused(fake: FakeBigQuery, key_info: dict[str, Any]) -> None:
    other = {**key_info, "private_key": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))}
    adapter = BigQueryAdapter(
        service_account_info=other, project=PROJECT, location="US", transport=httpx.MockTransport(fake)
    )
    with pytest.raises(WarehouseAuthFailed, match="Invalid JWT Signature"):
        adapter.test()


def test_a_401_from_the_token_endpoint_is_an_auth_failure(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.token_error = (401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
    with pytest.raises(WarehouseAuthFailed, match="invalid_client"):
        adapter.catalog()


def test_a_token_endpoint_outage_is_unreachable(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.token_error = (503, {"error": "unavailable"})
    with pytest.raises(WarehouseUnreachable):
        adapter.test()


# --- test() ---------------------------------------------------------------------------------------


def test_test_lists_datasets_and_runs_select_1_in_the_location(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 0
    assert adapter.test() == f"Connected to project {PROJECT} (2 datasets in US)."
    assert len(fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/datasets")) == 2  # followed nextPageToken
    [job] = fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")
    body = _json(job)
    assert body["query"] == "SELECT 1"
    assert body["useLegacySql"] is False
    assert body["location"] == "US"


def test_test_connects_with_a_5_second_connect_timeout(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    adapter.test()
    assert all(r.extensions["timeout"]["connect"] == 5.0 for r in fake.requests)


def test_a_wrong_project_is_missing_and_names_the_service_account(fake: FakeBigQuery, key_info: dict[str, Any]) -> None:
    adapter = BigQueryAdapter(
        service_account_info=key_info, project="no-such-project", location="US", transport=httpx.MockTransport(fake)
    )
    with pytest.raises(WarehouseMissing) as caught:
        adapter.test()
    assert str(caught.value).startswith(f"Project no-such-project not found or not visible to {EMAIL}.")
    assert "Not found: Project no-such-project" in str(caught.value)


def test_missing_dataset_privileges_say_which_roles_are_needed(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("GET", rf"/projects/{PROJECT}/datasets")] = (
        403,
        error_body(
            403,
            f"Access Denied: Project {PROJECT}: User does not have bigquery.datasets.list permission",
            "accessDenied",
            "PERMISSION_DENIED",
        ),
    )
    with pytest.raises(WarehousePrivileges) as caught:
        adapter.test()
    assert "BigQuery Data Viewer" in str(caught.value) and "BigQuery Job User" in str(caught.value)
    assert EMAIL in str(caught.value)


def test_missing_job_privileges_say_bigquery_jobs_create(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("POST", rf"/projects/{PROJECT}/queries")] = (
        403,
        error_body(
            403,
            f"Access Denied: Project {PROJECT}: User does not have bigquery.jobs.create permission in project.",
            "accessDenied",
            "PERMISSION_DENIED",
        ),
    )
    with pytest.raises(WarehousePrivileges, match=r"needs bigquery\.jobs\.create \(BigQuery Job User"):
        adapter.test()


def test_a_configured_dataset_must_exist_in_the_location(fake: FakeBigQuery, key_info: dict[str, Any]) -> None:
    def make(dataset: str) -> BigQueryAdapter:
        return BigQueryAdapter(
            service_account_info=key_info,
            project=PROJECT,
            location="US",
            dataset=dataset,
            transport=httpx.MockTransport(fake),
        )

    with pytest.raises(WarehouseMissing) as caught:
        make("nope").test()
    assert caught.value.fields == {"config.dataset": "Not found."}
    with pytest.raises(WarehouseMissing, match="is in location EU, not US"):
        make("eu_data").test()
    assert make("analytics").test().startswith("Connected")


@pytest.mark.parametrize("error", [httpx.ConnectError("[Errno 111] Connection refused"), httpx.ConnectTimeout("")])
def test_network_errors_are_unreachable(key_info: dict[str, Any], error: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    adapter = BigQueryAdapter(
        service_account_info=key_info, project=PROJECT, location="US", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(WarehouseUnreachable) as caught:
        adapter.test()
    assert "Google's token endpoint" in str(caught.value)


def test_a_read_timeout_from_bigquery_is_unreachable(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    adapter.test()
    original = fake.list_datasets

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fake.list_datasets = hang  # type: ignore[method-assign]
    with pytest.raises(WarehouseUnreachable, match="in time"):
        adapter.catalog()
    fake.list_datasets = original  # type: ignore[method-assign]
    # No answer may mean not done or done: datasets.list is safe to repeat, so it was tried 3 times.
    assert len(fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/datasets")) == 2 + 3  # test(): 2 pages
    assert len(fake.sleeps) == 2


def test_a_bigquery_outage_is_unreachable(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("GET", rf"/projects/{PROJECT}/datasets")] = (
        503,
        error_body(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"),
    )
    with pytest.raises(WarehouseUnreachable, match="temporarily unavailable"):
        adapter.test()
    # Transient: tried as often as the adapter's policy allows (3: someone is waiting), then reported.
    assert len(fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/datasets")) == 3
    assert [int(s) for s in fake.sleeps] == [1, 2]


# --- retries ---------------------------------------------------------------------------------------


def test_transient_errors_are_retried_with_backoff(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    """503 backendError and 500 internalError are transient (BigQuery's error messages: retry with
    back-off): the request is repeated after 1-2 s, then 2-3 s, and the answer used."""
    fake.faults.plan("datasets.list", bigquery_faults.unavailable(), on=1)
    fake.faults.plan("datasets.list", bigquery_faults.internal_error(), on=2)
    assert adapter.test().startswith("Connected")
    assert fake.faults.calls["datasets.list"] == 4  # 503, 500, then both pages
    assert [int(s) for s in fake.sleeps] == [1, 2]


@pytest.mark.parametrize("status", [429, 403])
def test_rate_limits_and_lost_answers_repeat_a_query_with_its_request_id(
    adapter: BigQueryAdapter, fake: FakeBigQuery, status: int
) -> None:
    """rateLimitExceeded is a short-term limit to retry with exponential back-off (HTTP 403 in
    BigQuery's quota docs, 429 from Google's front end). jobs.query is safe to repeat, also after an
    answer was lost, because it carries a requestId: BigQuery answers a repeat within 15 minutes with
    the first request's job (QueryRequest.requestId)."""
    fake.faults.plan("jobs.query", bigquery_faults.rate_limited(status), on=1)
    fake.faults.plan("jobs.query", bigquery_faults.lost(), on=2)
    assert len(adapter.query("SELECT n FROM t", timeout_seconds=10, max_rows=10).rows) == 5
    posts = [_json(r) for r in fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")]
    assert len(posts) == 3 and len({p["requestId"] for p in posts}) == 1
    assert len(fake.sleeps) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (bigquery_faults.invalid("Syntax error: Unexpected end of script at [1:7]", "invalidQuery"), WarehouseError),
        (bigquery_faults.access_denied("Access Denied: Table ngo-data:analytics.visits"), WarehousePrivileges),
        (bigquery_faults.quota_exceeded(), WarehouseError),
        (bigquery_faults.not_found("Not found: Table ngo-data:analytics.nope"), WarehouseMissing),
    ],
)
def test_errors_that_are_not_transient_are_not_retried(
    adapter: BigQueryAdapter, fake: FakeBigQuery, fault: bigquery_faults.Fault, error: type[WarehouseError]
) -> None:
    """invalid (400), accessDenied and quotaExceeded (403), notFound (404): one request, no back-off,
    BigQuery's message in the error."""
    fake.faults.plan("jobs.query", fault)
    with pytest.raises(WarehouseError) as caught:
        adapter.query("SELECT n FROM analytics.visits", timeout_seconds=10, max_rows=10)
    assert type(caught.value) is error and fault.message in str(caught.value)
    assert fake.faults.calls["jobs.query"] == 1 and fake.sleeps == []


def test_a_request_not_safe_to_repeat_is_sent_once(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    """jobs.cancel is best effort while a timeout is reported: a 503 is logged, not retried."""
    fake.never_completes = True
    fake.faults.plan("jobs.cancel", bigquery_faults.unavailable())
    with pytest.raises(QueryTimeout):
        adapter.query("SELECT slow()", timeout_seconds=0.2, max_rows=1)
    assert fake.faults.calls["jobs.cancel"] == 1 and fake.sleeps == []


def test_retries_stop_at_the_retry_deadline(
    fake: FakeBigQuery, key_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many tries are allowed, no retry starts past the policy's deadline: waits of 1-2 s and
    2-3 s fit in 5 s, the next (4-5 s) would not."""
    clock = [1000.0]
    monkeypatch.setattr(bigquery.time, "monotonic", lambda: clock[0])

    def sleep(seconds: float) -> None:
        fake.sleeps.append(seconds)
        clock[0] += seconds

    adapter = BigQueryAdapter(
        service_account_info=key_info, project=PROJECT, location="US", transport=httpx.MockTransport(fake),
        retry=RetryPolicy(attempts=10, deadline=5.0, sleep=sleep),
    )  # fmt: skip
    fake.faults.plan("datasets.list", bigquery_faults.unavailable(), on=range(1, 20))
    with pytest.raises(WarehouseUnreachable, match="temporarily unavailable"):
        adapter.catalog()
    assert len(fake.sleeps) == 2 and sum(fake.sleeps) <= 5.0
    assert fake.faults.calls["datasets.list"] == 3


def test_the_backoff_is_truncated_exponential_with_jitter() -> None:
    """The BigQuery SLA's back-off: at least 1 s after the first error, doubling per consecutive
    error up to 32 s; the jitter (up to the base delay) keeps clients from retrying in step."""
    policy = RetryPolicy()
    for retry, low in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16)]:
        assert all(low <= policy.delay(retry) < low + 1 for _ in range(50))
    assert policy.delay(6) == policy.delay(9) == 32.0
    assert len({policy.delay(1) for _ in range(20)}) > 1
    assert bigquery.BigQueryClient.default_retry.attempts == bigquery.RETRY_ATTEMPTS


# --- catalog() ------------------------------------------------------------------------------------


def test_the_catalog_follows_pages_and_maps_kinds(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    catalog = adapter.catalog()
    assert catalog.schemas() == ["analytics", "staging"]  # eu_data is in another location
    assert [(t.schema, t.name, t.kind) for t in catalog.tables] == [
        ("analytics", "beneficiaries", "table"),
        ("analytics", "visits", "table"),
        ("analytics", "summary", "view"),
        ("staging", "raw_forms", "table"),
        ("staging", "mv_counts", "view"),
        # "gone" was listed but dropped before tables.get: skipped
    ]
    tables_calls = fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/datasets/analytics/tables")
    assert [r.url.params.get("pageToken") for r in tables_calls] == [None, "2"]
    table = catalog.table("analytics", "beneficiaries")
    kinds = {c.name: (c.type, c.kind) for c in table.columns}
    assert kinds == {
        "id": ("INTEGER", ColumnKind.NUMBER),
        "name": ("STRING", ColumnKind.TEXT),
        "score": ("FLOAT", ColumnKind.NUMBER),
        "amount": ("NUMERIC", ColumnKind.NUMBER),
        "big": ("BIGNUMERIC", ColumnKind.NUMBER),
        "active": ("BOOLEAN", ColumnKind.BOOLEAN),
        "born": ("DATE", ColumnKind.DATE),
        "seen_at": ("TIMESTAMP", ColumnKind.DATETIME),
        "local_at": ("DATETIME", ColumnKind.DATETIME),
        "opens": ("TIME", ColumnKind.OTHER),
        "photo": ("BYTES", ColumnKind.OTHER),
        "where": ("GEOGRAPHY", ColumnKind.OTHER),
        "extra": ("JSON", ColumnKind.JSON),
        "tags": ("ARRAY<STRING>", ColumnKind.JSON),
        "address": ("RECORD", ColumnKind.JSON),
        "legacy_i": ("INT64", ColumnKind.NUMBER),
        "legacy_f": ("FLOAT64", ColumnKind.NUMBER),
        "flag": ("BOOL", ColumnKind.BOOLEAN),
        "s": ("STRUCT", ColumnKind.JSON),
    }
    assert table.column("id") is not None and table.column("id").nullable is False  # type: ignore[union-attr]
    assert table.column("name").nullable is True  # type: ignore[union-attr]


def test_catalog_errors_map(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("GET", rf"/projects/{PROJECT}/datasets/staging/tables/.+")] = (
        403,
        error_body(403, "Access Denied: Table ngo-data:staging.raw_forms", "accessDenied", "PERMISSION_DENIED"),
    )
    with pytest.raises(WarehousePrivileges, match=r"may not read the schema of staging\.raw_forms"):
        adapter.catalog()


# --- query() --------------------------------------------------------------------------------------


def test_a_query_polls_until_complete_and_follows_pages(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 3
    fake.result_rows = [row(str(i)) for i in range(25_000)]
    result = adapter.query("SELECT n FROM t", timeout_seconds=10, max_rows=100_000)
    assert result.columns == ["n"]
    assert [r[0] for r in result.rows] == list(range(25_000))
    assert result.truncated is False
    [job] = fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")
    body = _json(job)
    assert body["useLegacySql"] is False
    assert body["location"] == "US"
    assert body["jobTimeoutMs"] == "10000"
    assert 0 < body["timeoutMs"] <= 10_000
    assert body["maxResults"] == 10_000
    assert "defaultDataset" not in body
    polls = fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/job_0")
    assert all(p.url.params["location"] == "US" for p in polls)
    assert [p.url.params.get("pageToken") for p in polls] == [None, None, None, "job_0:10000", "job_0:20000"]


def test_max_rows_truncates_and_stops_paging(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 0
    fake.result_rows = [row(str(i)) for i in range(50)]
    result = adapter.query("SELECT n FROM t", timeout_seconds=10, max_rows=10)
    assert len(result.rows) == 10 and result.truncated is True
    assert _json(fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")[0])["maxResults"] == 11
    assert fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/.+") == []
    exact = adapter.query("SELECT n FROM t", timeout_seconds=10, max_rows=50)
    assert len(exact.rows) == 50 and exact.truncated is False


def test_the_dataset_is_the_default_dataset_of_queries(fake: FakeBigQuery, key_info: dict[str, Any]) -> None:
    adapter = BigQueryAdapter(
        service_account_info=key_info,
        project=PROJECT,
        location="US",
        dataset="analytics",
        transport=httpx.MockTransport(fake),
    )
    adapter.query("SELECT 1", timeout_seconds=5, max_rows=1)
    body = _json(fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")[0])
    assert body["defaultDataset"] == {"projectId": PROJECT, "datasetId": "analytics"}


def test_values_are_converted_by_schema_type(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.result_schema = [
        {"name": "i", "type": "INTEGER"},
        {"name": "f", "type": "FLOAT"},
        {"name": "nan", "type": "FLOAT64"},
        {"name": "num", "type": "NUMERIC"},
        {"name": "big", "type": "BIGNUMERIC"},
        {"name": "b", "type": "BOOLEAN"},
        {"name": "s", "type": "STRING"},
        {"name": "ts", "type": "TIMESTAMP"},
        {"name": "ts_frac", "type": "TIMESTAMP"},
        {"name": "ts_before_1970", "type": "TIMESTAMP"},
        {"name": "d", "type": "DATE"},
        {"name": "dt", "type": "DATETIME"},
        {"name": "t", "type": "TIME"},
        {"name": "bytes", "type": "BYTES"},
        {"name": "geo", "type": "GEOGRAPHY"},
        {"name": "j", "type": "JSON"},
        {"name": "null", "type": "STRING"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {
            "name": "visits",
            "type": "RECORD",
            "mode": "REPEATED",
            "fields": [
                {"name": "on", "type": "DATE"},
                {"name": "scores", "type": "INTEGER", "mode": "REPEATED"},
                {"name": "by", "type": "RECORD", "fields": [{"name": "name", "type": "STRING"}]},
            ],
        },
        {"name": "address", "type": "RECORD", "fields": [{"name": "city", "type": "STRING"}]},
        {"name": "no_address", "type": "RECORD", "fields": [{"name": "city", "type": "STRING"}]},
    ]
    fake.result_rows = [
        {
            "f": [
                cell("42"),
                cell("2.5"),
                cell("NaN"),
                cell("123.456789012"),
                cell("1.5E+40"),
                cell("true"),
                cell("Pune"),
                cell("1.7E9"),
                cell("1.700000000123456E9"),
                cell("-1.0E0"),
                cell("2024-02-29"),
                cell("2024-02-29T10:30:00.5"),
                cell("10:30:00.250000"),
                cell(base64.b64encode(b"\x00\xff").decode()),
                cell("POINT(73.8 18.5)"),
                cell('{"a": [1, 2]}'),
                cell(None),
                cell([cell("a"), cell("b")]),
                cell(
                    [
                        cell(
                            {
                                "f": [
                                    cell("2024-01-01"),
                                    cell([cell("1"), cell("2")]),
                                    cell({"f": [cell("Asha")]}),
                                ]
                            }
                        ),
                        cell({"f": [cell(None), cell([]), cell(None)]}),
                    ]
                ),
                cell({"f": [cell("Pune")]}),
                cell(None),
            ]
        }
    ]
    [values] = adapter.query("SELECT *", timeout_seconds=5, max_rows=10).rows
    converted = dict(zip([f["name"] for f in fake.result_schema], values, strict=True))
    nan = converted.pop("nan")
    assert nan != nan  # NaN
    assert converted == {
        "i": 42,
        "f": 2.5,
        "num": Decimal("123.456789012"),
        "big": Decimal("1.5E+40"),
        "b": True,
        "s": "Pune",
        "ts": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
        "ts_frac": datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC),
        "ts_before_1970": datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        "d": date(2024, 2, 29),
        "dt": datetime(2024, 2, 29, 10, 30, 0, 500000),
        "t": time(10, 30, 0, 250000),
        "bytes": b"\x00\xff",
        "geo": "POINT(73.8 18.5)",
        "j": {"a": [1, 2]},
        "null": None,
        "tags": ["a", "b"],
        "visits": [
            {"on": date(2024, 1, 1), "scores": [1, 2], "by": {"name": "Asha"}},
            {"on": None, "scores": [], "by": None},
        ],
        "address": {"city": "Pune"},
        "no_address": None,
    }
    assert type(converted["i"]) is int and converted["dt"].tzinfo is None
    assert converted["ts"].tzinfo is UTC


def test_parse_timestamp_accepts_the_documented_forms() -> None:
    assert bigquery.parse_timestamp("1700000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert bigquery.parse_timestamp("1.7e9") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert bigquery.parse_timestamp("1.7E9") == bigquery.parse_timestamp("1700000000.000000")
    assert bigquery.parse_timestamp("2.534023007999999E11") == datetime(9999, 12, 31, 23, 59, 59, 999900, tzinfo=UTC)
    assert bigquery.parse_timestamp("2024-01-02T03:04:05.123456Z") == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def test_an_unreadable_value_is_a_warehouse_error(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.result_rows = [row("not a number")]
    with pytest.raises(WarehouseError, match="could not be read"):
        adapter.query("SELECT n", timeout_seconds=5, max_rows=10)


def test_a_statement_without_rows_returns_no_columns(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 0
    fake.result_schema, fake.result_rows = [], []
    result = adapter.query("CREATE TEMP TABLE x AS SELECT 1", timeout_seconds=5, max_rows=10)
    assert (result.columns, result.rows, result.truncated) == ([], [], False)


def test_an_invalid_query_is_a_warehouse_error_with_bigquerys_message(
    adapter: BigQueryAdapter, fake: FakeBigQuery
) -> None:
    with pytest.raises(WarehouseError) as caught:
        adapter.query("SELECT syntax error", timeout_seconds=5, max_rows=10)
    assert type(caught.value) is WarehouseError
    assert str(caught.value) == "Syntax error: Unexpected identifier at [1:1]"


def test_a_job_failing_while_polled_is_a_warehouse_error(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 1
    fake.job_error = error_body(400, "Division by zero: 1 / 0", "invalidQuery", "INVALID_ARGUMENT")
    with pytest.raises(WarehouseError, match="Division by zero"):
        adapter.query("SELECT 1/0", timeout_seconds=5, max_rows=10)


def test_reading_a_table_without_access_is_a_privileges_error(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("POST", rf"/projects/{PROJECT}/queries")] = (
        403,
        error_body(
            403,
            "Access Denied: Table ngo-data:analytics.visits: User does not have permission to query table",
            "accessDenied",
            "PERMISSION_DENIED",
        ),
    )
    with pytest.raises(WarehousePrivileges, match="BigQuery Data Viewer"):
        adapter.query("SELECT * FROM analytics.visits", timeout_seconds=5, max_rows=10)


def test_a_query_naming_a_missing_table_is_missing(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.failures[("POST", rf"/projects/{PROJECT}/queries")] = (
        404,
        error_body(
            404, "Not found: Table ngo-data:analytics.nope was not found in location US", "notFound", "NOT_FOUND"
        ),
    )
    with pytest.raises(WarehouseMissing, match=r"analytics\.nope was not found"):
        adapter.query("SELECT * FROM analytics.nope", timeout_seconds=5, max_rows=10)


def test_a_job_stopped_by_its_job_timeout_is_a_query_timeout(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.job_error = error_body(400, "Job timed out after 1 sec", "timeout", "INVALID_ARGUMENT")
    with pytest.raises(QueryTimeout):
        adapter.query("SELECT slow()", timeout_seconds=1, max_rows=10)


def test_a_query_past_its_timeout_is_cancelled(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.never_completes = True
    with pytest.raises(QueryTimeout) as caught:
        adapter.query("SELECT slow()", timeout_seconds=0.3, max_rows=10)
    assert caught.value.status == 504
    assert fake.cancelled == ["job_0"]
    [cancel] = fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/jobs/job_0/cancel")
    assert cancel.url.params["location"] == "US"
    assert _json(fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")[0])["jobTimeoutMs"] == "300"
    for poll in fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/job_0"):
        assert int(poll.url.params["timeoutMs"]) <= 300


def test_a_query_whose_http_call_outlives_the_timeout_is_a_query_timeout(
    adapter: BigQueryAdapter, fake: FakeBigQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.never_completes = True
    clock = [1000.0]
    monkeypatch.setattr(bigquery.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(bigquery.time, "sleep", lambda seconds: None)
    original = fake.get_query_results

    def slow(request: httpx.Request, job_id: str) -> httpx.Response:
        clock[0] += 100
        raise httpx.ReadTimeout("timed out", request=request)

    fake.get_query_results = slow  # type: ignore[method-assign]
    with pytest.raises(QueryTimeout):
        adapter.query("SELECT slow()", timeout_seconds=30, max_rows=10)
    assert fake.cancelled == ["job_0"]
    fake.get_query_results = original  # type: ignore[method-assign]


# --- stream() -------------------------------------------------------------------------------------


def test_stream_yields_one_page_per_batch_fetching_lazily(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 0
    fake.result_rows = [row(str(i)) for i in range(7)]
    streamed = adapter.stream("SELECT n FROM t", timeout_seconds=5, batch_size=3)
    assert streamed.columns == ["n"]
    assert _json(fake.calls("POST", rf"/bigquery/v2/projects/{PROJECT}/queries")[0])["maxResults"] == 3
    pages = fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/.+")
    assert pages == []
    assert next(streamed.batches) == [(0,), (1,), (2,)]
    assert fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/.+") == []
    assert next(streamed.batches) == [(3,), (4,), (5,)]
    assert len(fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/.+")) == 1
    assert list(streamed.batches) == [[(6,)]]
    tokens = [r.url.params["pageToken"] for r in fake.calls("GET", rf"/bigquery/v2/projects/{PROJECT}/queries/.+")]
    assert tokens == ["job_0:3", "job_0:6"]


def test_stream_waits_for_the_job_and_times_out_like_query(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.incomplete_polls = 2
    fake.result_rows = [row("1")]
    assert list(adapter.stream("SELECT 1", timeout_seconds=5).batches) == [[(1,)]]
    fake.never_completes = True
    with pytest.raises(QueryTimeout):
        adapter.stream("SELECT slow()", timeout_seconds=0.2)
    assert fake.cancelled == ["job_1"]


def test_stream_of_an_empty_result_yields_nothing(adapter: BigQueryAdapter, fake: FakeBigQuery) -> None:
    fake.result_rows = []
    streamed = adapter.stream("SELECT n FROM t WHERE false", timeout_seconds=5)
    assert streamed.columns == ["n"] and list(streamed.batches) == []


# --- secrets --------------------------------------------------------------------------------------


def test_no_secret_reaches_an_exception_or_a_log(
    adapter: BigQueryAdapter, fake: FakeBigQuery, key_info: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    adapter.test()
    fake.never_completes = True
    fake.failures[("POST", rf"/projects/{PROJECT}/jobs/.+/cancel")] = (
        500,
        error_body(500, "backend", "backendError", "INTERNAL"),
    )
    for run in (
        lambda: adapter.query("SELECT slow()", timeout_seconds=0.1, max_rows=1),
        lambda: adapter.query("SELECT syntax", timeout_seconds=1, max_rows=1),
    ):
        with pytest.raises(WarehouseError) as caught:
            run()
        messages += [str(caught.value), repr(caught.value), json.dumps(caught.value.as_body())]
    text = "\n".join([*messages, caplog.text])
    assert "Could not cancel BigQuery job" in caplog.text
    assert fake.issued and all(token not in text for token in fake.issued)
    assert "PRIVATE KEY" not in text and key_info["private_key"][40:80] not in text


def test_close_closes_the_http_client(adapter: BigQueryAdapter) -> None:
    adapter.close()
    assert adapter._http.is_closed
