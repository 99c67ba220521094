"""The loader into BigQuery, against a fake BigQuery at the HTTP edge.

BigQuery cannot be reached from this machine, so `FakeBigQuery` fakes it at the HTTP edge
(`httpx.MockTransport`) from its documented REST contract: Google OAuth 2.0's service-account flow
(a JWT bearer assertion, whose RS256 signature is checked against the key pair made here), and
BigQuery REST v2's jobs.insert with a media upload at /upload/bigquery/v2 (load jobs; multipart/related:
the Job as JSON, then the data; or the resumable upload protocol, `UploadSessions`), jobs.insert of a
query job at /bigquery/v2 (the Job as JSON, configuration.query as
https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfigurationQuery documents it:
query, useLegacySql, defaultDataset; no destinationTable for DDL and DML), a 409 duplicate for a
jobId already taken, jobs.get (state PENDING/RUNNING/DONE, errorResult, statistics.query),
jobs.cancel, tables.get/list (paged, with creationTime)/delete and the error body
{"error": {"code", "message", "errors": [{"reason"}], "status"}}. The loader never calls jobs.query
(the fake has no such route). Failures BigQuery documents are injected with `Faults`
(tests/bigquery_support.py): an error answer instead of the work, the work done and its answer lost
or replaced by an error, and load or query jobs that end DONE with an errorResult (having changed
nothing: a job is all or nothing).

Unlike the adapter's fake, this one does the work, in an in-memory DuckDB: a load job creates its
destination table from the job's schema (WRITE_TRUNCATE) and reads the uploaded newline-delimited
JSON into it; a statement is parsed as BigQuery SQL and transpiled to DuckDB with sqlglot
(`sqlglot.transpile(sql, read="bigquery", write="duckdb")`) and run, so the tests check what the
rows end up as. Where the transpiled SQL means something else in DuckDB than the BigQuery SQL does,
the fake corrects it and says why (`_as_duckdb`). What it cannot prove is that BigQuery accepts each
statement as DuckDB does, or still behaves as documented; that needs a real project.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest
import sqlglot
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlglot import exp

from dalgo.ingestion.loader import BigQueryWriter, ColumnType, Loader, sql
from dalgo.ingestion.loader.types import METADATA_COLUMNS
from dalgo.ingestion.loader.writers import BIGQUERY_STALE_STAGE_SECONDS
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, Record, State, SyncMode
from dalgo.warehouses.adapters.base import WarehouseError, WarehouseMissing, WarehousePrivileges, WarehouseUnreachable
from dalgo.warehouses.adapters.bigquery import JOB_ATTEMPTS, RETRY_ATTEMPTS, RetryPolicy
from tests import bigquery_support as bigquery_faults
from tests.bigquery_support import (
    INVALID_SIGNATURE,
    TOKEN_URI,
    Fault,
    Faults,
    UploadSessions,
    error_body,
    service_account_key,
    token_assertion,
)

PROJECT = "ngo-data"
LOCATION = "asia-south1"
EMAIL = "dalgo-loader@ngo-data.iam.gserviceaccount.com"
API = "/bigquery/v2"
UPLOAD = "/upload/bigquery/v2"
STAGE_RE = re.compile(r"_dalgo_stage_[0-9a-f]{12}")

# BigQuery schema field types -> the DuckDB types that hold the same values (NUMERIC is DECIMAL(38, 9)).
DUCK_TYPES = {
    "STRING": "VARCHAR", "INT64": "BIGINT", "INTEGER": "BIGINT", "FLOAT64": "DOUBLE", "FLOAT": "DOUBLE",
    "NUMERIC": "DECIMAL(38, 9)", "BOOL": "BOOLEAN", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
    "DATETIME": "TIMESTAMP", "TIMESTAMP": "TIMESTAMPTZ", "JSON": "JSON",
}  # fmt: skip
# And back, as tables.get names them (the legacy names the REST API returns).
BQ_TYPES = {
    "BIGINT": "INTEGER", "DOUBLE": "FLOAT", "DECIMAL(38,9)": "NUMERIC", "VARCHAR": "STRING",
    "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "DATETIME", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "JSON": "JSON",
}  # fmt: skip


def multipart_parts(request: httpx.Request) -> list[tuple[dict[str, str], bytes]]:
    """A multipart/related body (RFC 2387, CRLF line ends) -> [(headers, content)]."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/related; boundary="), content_type
    delimiter = b"--" + content_type.split("boundary=", 1)[1].strip('"').encode()
    pieces = request.content.split(delimiter)
    assert pieces[0] == b"" and pieces[-1] == b"--\r\n", "a body opens with the delimiter, ends with the close"
    parts = []
    for piece in pieces[1:-1]:
        assert piece.startswith(b"\r\n") and piece.endswith(b"\r\n")
        head, _, content = piece[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


class FakeBigQuery:
    """BigQuery REST v2 (and Google's token endpoint) answering from an in-memory DuckDB."""

    def __init__(self, public_key: rsa.RSAPublicKey, workdir: Path) -> None:
        self.public_key = public_key
        self.workdir = workdir
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET TimeZone = 'UTC'")
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self.datasets: dict[str, str] = {}  # dataset id -> location
        self.jobs: dict[str, dict[str, Any]] = {}  # job id -> Job resource
        self.polls: dict[str, int] = {}  # job id -> jobs.get answers before it is DONE
        self.job_polls = 1  # load jobs: jobs.get answers RUNNING this many times (after jobs.insert did)
        self.query_polls = 0  # query jobs: the same (0: jobs.insert answers with the job DONE)
        self.statements: list[str] = []  # BigQuery SQL run by query jobs, in order
        self.table_page = 2
        self.faults = Faults()
        self.uploads = UploadSessions()
        self.created: dict[tuple[str, str], int] = {}  # (dataset, table) -> creationTime, ms since the epoch
        self.sleeps: list[float] = []  # the back-offs the client waited (it is given this list's append)

    # --- for assertions ----------------------------------------------------------------------------

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.db.execute(query).fetchall()]

    def tables(self, dataset: str) -> list[str]:
        found = self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [dataset]
        ).fetchall()
        return [str(r[0]) for r in found]

    def field_types(self, dataset: str, table: str) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self._fields(dataset, table)}

    def calls(self, method: str, pattern: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.url.path)]

    # --- the handler -------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URI:
            return self.token(request)
        assert request.url.host == "bigquery.googleapis.com"
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.issued:
            return httpx.Response(401, json=error_body(401, "Invalid Credentials", "authError", "UNAUTHENTICATED"))
        p = rf"/projects/{PROJECT}"
        routes: list[tuple[str, str, str, Callable[..., httpx.Response]]] = [
            ("POST", rf"{UPLOAD}{p}/jobs", "jobs.insert", self.insert_upload),
            ("POST", rf"{API}{p}/jobs", "jobs.insert (query)", self.insert_query_job),
            ("PUT", rf"{UPLOAD}{p}/jobs", "upload.put", self.upload_put),
            ("GET", rf"{API}{p}/jobs/([^/]+)", "jobs.get", self.get_job),
            ("POST", rf"{API}{p}/jobs/([^/]+)/cancel", "jobs.cancel", self.cancel_job),
            ("GET", rf"{API}{p}/datasets/([^/]+)/tables", "tables.list", self.list_tables),
            ("GET", rf"{API}{p}/datasets/([^/]+)/tables/([^/]+)", "tables.get", self.get_table),
            ("DELETE", rf"{API}{p}/datasets/([^/]+)/tables/([^/]+)", "tables.delete", self.delete_table),
        ]
        answer = self.faults.route(request, request.url.path, routes)
        if answer is not None:
            return answer
        return httpx.Response(404, json=error_body(404, f"Not found: {request.url.path}", "notFound", "NOT_FOUND"))

    def token(self, request: httpx.Request) -> httpx.Response:
        assertion = token_assertion(request, self.public_key)
        if assertion is None:
            return httpx.Response(400, json=INVALID_SIGNATURE)
        _header, claims = assertion
        assert claims["iss"] == EMAIL and claims["scope"] == "https://www.googleapis.com/auth/bigquery"
        token = f"ya29.loader-token-{len(self.issued)}"
        self.issued.append(token)
        return httpx.Response(200, json={"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # --- jobs --------------------------------------------------------------------------------------

    def _job(
        self,
        job: dict[str, Any],
        state: str,
        error: str | None = None,
        failure: Fault | None = None,
        statistics: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ref = job["jobReference"]
        resource = {
            "kind": "bigquery#job",
            "id": f"{PROJECT}:{ref['location']}.{ref['jobId']}",
            "jobReference": ref,
            "configuration": job["configuration"],
            "status": {"state": state},
        }
        if statistics:
            resource["statistics"] = statistics
        if error:
            resource["status"] = {
                "state": "DONE",
                "errorResult": {"reason": "invalid", "message": "Error while reading data, error message: "
                                "JSON table encountered too many errors, giving up. Rows: 1; errors: 1."},
                "errors": [{"reason": "invalid", "message": error[:300]}],
            }  # fmt: skip
        if failure:
            problem = {"reason": failure.reason, "message": failure.message}
            resource["status"] = {"state": "DONE", "errorResult": problem, "errors": [problem]}
        return resource

    def insert_upload(self, request: httpx.Request) -> httpx.Response:
        if request.url.params["uploadType"] == "resumable":
            return self.uploads.start(request)  # the job is inserted when the session has every byte
        assert request.url.params["uploadType"] == "multipart"
        (meta_headers, meta), (data_headers, data) = multipart_parts(request)
        assert meta_headers["content-type"].startswith("application/json")
        assert data_headers["content-type"] == "application/octet-stream"
        return self.insert_job(json.loads(meta), data)

    def upload_put(self, request: httpx.Request) -> httpx.Response:
        return self.uploads.put(request, self.insert_job)

    def insert_job(self, job: dict[str, Any], data: bytes) -> httpx.Response:
        """jobs.insert of a load job with its data: 409 duplicate when the jobId is taken. A failure
        planned as "load job" makes the job end DONE with that errorResult, loading nothing."""
        load = job["configuration"]["load"]
        job_id = job["jobReference"]["jobId"]
        if job_id in self.jobs:
            return httpx.Response(
                409, json=error_body(409, f"Already Exists: Job {PROJECT}:{LOCATION}.{job_id}", "duplicate",
                                     "ALREADY_EXISTS")
            )  # fmt: skip
        if load.get("sourceFormat") != "NEWLINE_DELIMITED_JSON":
            return httpx.Response(400, json=error_body(400, "Unsupported format", "invalid", "INVALID_ARGUMENT"))
        failure = self.faults.take("load job")
        if failure:
            self.jobs[job_id] = self._job(job, "DONE", failure=failure)
        else:
            self.jobs[job_id] = self._job(job, "DONE", self._load(load, data))
        self.polls[job_id] = self.job_polls
        answer = self.jobs[job_id] if not self.job_polls else self._job(job, "RUNNING")
        return httpx.Response(200, json=answer)

    def _load(self, load: dict[str, Any], data: bytes) -> str | None:
        """Runs the load job; an error message when it fails."""
        destination = load["destinationTable"]
        assert destination["projectId"] == PROJECT
        dataset, table = destination["datasetId"], destination["tableId"]
        if dataset not in self.datasets:
            return f"Not found: Dataset {PROJECT}:{dataset}"
        assert load["writeDisposition"] == "WRITE_TRUNCATE"
        fields = load["schema"]["fields"]
        names = {f["name"] for f in fields}
        for line in data.splitlines():
            unknown = set(json.loads(line)) - names
            if unknown and not load.get("ignoreUnknownValues"):
                return f"JSON table encountered unknown fields: {sorted(unknown)}"
        target = f'"{dataset}"."{table}"'
        columns = ", ".join(f'"{f["name"]}" {DUCK_TYPES[f["type"]]}' for f in fields)
        path = self.workdir / f"{uuid.uuid4().hex}.json"
        path.write_bytes(data)
        struct = "{" + ", ".join(f"'{f['name']}': '{DUCK_TYPES[f['type']]}'" for f in fields) + "}"
        self.created[(dataset, table)] = self.now_ms()
        try:
            self.db.execute("BEGIN")
            self.db.execute(f"CREATE OR REPLACE TABLE {target} ({columns})")
            self.db.execute(
                f"INSERT INTO {target} SELECT * FROM read_json('{path}', format = 'newline_delimited', "
                f"columns = {struct})"
            )
            self.db.execute("COMMIT")
        except duckdb.Error as exc:
            self.db.execute("ROLLBACK")
            return str(exc)
        finally:
            path.unlink()
        return None

    def get_job(self, request: httpx.Request, job_id: str) -> httpx.Response:
        assert request.url.params["location"] == LOCATION
        if job_id not in self.jobs:
            return httpx.Response(404, json=error_body(404, f"Not found: Job {job_id}", "notFound", "NOT_FOUND"))
        if self.polls[job_id] > 0:
            self.polls[job_id] -= 1
            return httpx.Response(200, json={**self.jobs[job_id], "status": {"state": "RUNNING"}})
        return httpx.Response(200, json=self.jobs[job_id])

    def cancel_job(self, request: httpx.Request, job_id: str) -> httpx.Response:
        return httpx.Response(200, json={"kind": "bigquery#jobCancelResponse", "job": self.jobs.get(job_id, {})})

    def insert_query_job(self, request: httpx.Request) -> httpx.Response:
        """jobs.insert of a query job (the Job as JSON, no upload): 409 duplicate when the jobId is
        taken; else the statement runs (a syntax or execution error makes the job end DONE with
        errorResult invalidQuery, as a failed query is reported by jobs.get; an insert refused with
        400 is injected as "jobs.insert (query)"). A failure planned as "query job"
        makes the job end DONE with that errorResult, running nothing. The answer is the job, RUNNING
        when `query_polls` asks for polling."""
        job = json.loads(request.content)
        ref = job["jobReference"]
        assert ref["projectId"] == PROJECT and ref["location"] == LOCATION and ref["jobId"]
        assert set(job["configuration"]) <= {"query", "jobTimeoutMs", "labels"}, job["configuration"]
        query = job["configuration"]["query"]
        assert query["useLegacySql"] is False  # the API's default is legacy SQL
        assert "destinationTable" not in query and "writeDisposition" not in query  # DDL and DML take none
        job_id = ref["jobId"]
        if job_id in self.jobs:
            return httpx.Response(
                409, json=error_body(409, f"Already Exists: Job {PROJECT}:{LOCATION}.{job_id}", "duplicate",
                                     "ALREADY_EXISTS")
            )  # fmt: skip
        failure = self.faults.take("query job", request)
        if failure:
            self.jobs[job_id] = self._job(job, "DONE", failure=failure)
        else:
            self.statements.append(query["query"])
            try:
                statistics = self.run_query(query["query"])
            except sqlglot.errors.ParseError as exc:
                failure = bigquery_faults.invalid(f"Syntax error: {str(exc).splitlines()[0]}", "invalidQuery")
            except duckdb.Error as exc:
                failure = bigquery_faults.invalid(str(exc)[:300], "invalidQuery")
            self.jobs[job_id] = (
                self._job(job, "DONE", failure=failure)
                if failure
                else self._job(job, "DONE", statistics={"query": statistics})
            )
        self.polls[job_id] = self.query_polls
        answer = self.jobs[job_id] if not self.query_polls else self._job(job, "RUNNING")
        return httpx.Response(200, json=answer)

    def run_query(self, bigquery_sql: str) -> dict[str, Any]:
        """Run a statement: the job's statistics.query (statementType; numDmlAffectedRows, an int64
        sent as a JSON string, for DML)."""
        affected = self.execute(bigquery_sql)
        tree = sqlglot.parse_one(bigquery_sql, read="bigquery")
        kind = {exp.Insert: "INSERT", exp.Merge: "MERGE", exp.Update: "UPDATE", exp.Delete: "DELETE",
                exp.Select: "SELECT", exp.Drop: "DROP_TABLE", exp.Alter: "ALTER_TABLE"}.get(type(tree))  # fmt: skip
        if isinstance(tree, exp.Create):
            kind = "CREATE_SCHEMA" if tree.kind == "SCHEMA" else "CREATE_TABLE"
            if tree.kind == "TABLE" and tree.expression:
                kind += "_AS_SELECT"
        statistics: dict[str, Any] = {"statementType": kind or "SCRIPT"}
        if affected is not None:
            statistics["numDmlAffectedRows"] = str(affected)
        return statistics

    def execute(self, bigquery_sql: str) -> int | None:
        """Run one statement: a CREATE SCHEMA creates a dataset in its location; anything else is
        transpiled to DuckDB and run. The number of rows a DML statement changed, else None."""
        tree = sqlglot.parse_one(bigquery_sql, read="bigquery")
        if isinstance(tree, exp.Create) and tree.kind == "SCHEMA":
            dataset = tree.this.name or tree.this.args["db"].name
            location = next(
                (p.this.name for p in (tree.args.get("properties") or exp.Properties()).expressions
                 if isinstance(p, exp.LocationProperty)),
                "US",  # the default when a query creates a dataset without a location
            )  # fmt: skip
            if dataset in self.datasets:
                if not tree.args.get("exists"):
                    raise duckdb.CatalogException(f"Already Exists: Dataset {PROJECT}:{dataset}")
                return None
            self.datasets[dataset] = location
            self.db.execute(f'CREATE SCHEMA "{dataset}"')
            return None
        result = self.db.execute(self._as_duckdb(tree))
        if isinstance(tree, exp.Insert | exp.Merge | exp.Update | exp.Delete):
            row = result.fetchone()
            return int(row[0]) if row else 0
        return None

    def _as_duckdb(self, tree: exp.Expression) -> str:
        """The BigQuery statement as DuckDB SQL, corrected where sqlglot's transpile changes meaning:
        BigQuery's NUMERIC is DECIMAL(38, 9), where sqlglot writes DuckDB's DECIMAL (18, 3); and
        BigQuery's TO_JSON returns JSON, where sqlglot's DuckDB output casts it to text (so a table
        rewritten with it would get a text column)."""

        def fix(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL and not node.expressions:
                return exp.DataType.build("DECIMAL(38, 9)")
            if isinstance(node, exp.JSONFormat) and node.args.get("to_json"):
                return exp.Anonymous(this="TO_JSON", expressions=[node.this])
            return node

        return tree.transform(fix).sql("duckdb")

    # --- tables ------------------------------------------------------------------------------------

    def _fields(self, dataset: str, table: str) -> list[dict[str, Any]]:
        found = self.db.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position",
            [dataset, table],
        ).fetchall()
        return [{"name": name, "type": BQ_TYPES[str(t).upper()], "mode": "NULLABLE"} for name, t in found]

    @staticmethod
    def now_ms() -> int:
        return int(time.time() * 1000)

    def make_table(self, dataset: str, table: str, *, age_seconds: float) -> None:
        """A table (one column) created `age_seconds` ago, in a dataset made if missing."""
        if dataset not in self.datasets:
            self.execute(f"CREATE SCHEMA `{dataset}` OPTIONS (location='{LOCATION}')")
        self.db.execute(f'CREATE TABLE "{dataset}"."{table}" (id BIGINT)')
        self.created[(dataset, table)] = self.now_ms() - int(age_seconds * 1000)

    def _not_found(self, what: str) -> httpx.Response:
        return httpx.Response(404, json=error_body(404, f"Not found: {what}", "notFound", "NOT_FOUND"))

    def list_tables(self, request: httpx.Request, dataset: str) -> httpx.Response:
        if dataset not in self.datasets:
            return self._not_found(f"Dataset {PROJECT}:{dataset}")
        names = self.tables(dataset)
        start = int(request.url.params.get("pageToken") or 0)
        page = names[start : start + self.table_page]
        for name in page:  # tables a statement made: created when first seen
            self.created.setdefault((dataset, name), self.now_ms())
        body: dict[str, Any] = {"kind": "bigquery#tableList", "totalItems": len(names), "tables": [
            {"kind": "bigquery#table", "id": f"{PROJECT}:{dataset}.{name}", "type": "TABLE",
             "tableReference": {"projectId": PROJECT, "datasetId": dataset, "tableId": name},
             "creationTime": str(self.created[(dataset, name)])}  # int64: a string in JSON
            for name in page
        ]}  # fmt: skip
        if start + self.table_page < len(names):
            body["nextPageToken"] = str(start + self.table_page)
        return httpx.Response(200, json=body)

    def get_table(self, request: httpx.Request, dataset: str, table: str) -> httpx.Response:
        if dataset not in self.datasets or table not in self.tables(dataset):
            return self._not_found(f"Table {PROJECT}:{dataset}.{table}")
        return httpx.Response(200, json={
            "kind": "bigquery#table", "type": "TABLE",
            "tableReference": {"projectId": PROJECT, "datasetId": dataset, "tableId": table},
            "schema": {"fields": self._fields(dataset, table)},
        })  # fmt: skip

    def delete_table(self, request: httpx.Request, dataset: str, table: str) -> httpx.Response:
        if dataset not in self.datasets or table not in self.tables(dataset):
            return self._not_found(f"Table {PROJECT}:{dataset}.{table}")
        self.db.execute(f'DROP TABLE "{dataset}"."{table}"')
        self.created.pop((dataset, table), None)
        return httpx.Response(204)


# --- fixtures and helpers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_pair() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_info(key_pair: rsa.RSAPrivateKey) -> dict[str, Any]:
    return service_account_key(key_pair, project=PROJECT, email=EMAIL)


class Warehouse:
    """The fake BigQuery and writers on it, for one test; `schema` is the destination dataset."""

    def __init__(self, fake: FakeBigQuery, key_info: dict[str, Any]) -> None:
        self.fake, self.key_info = fake, key_info
        self.schema = f"raw_{uuid.uuid4().hex[:8]}"
        self.client_settings: dict[str, Any] = {}  # set on each writer's client (resumable_threshold, ...)

    def writer(self) -> BigQueryWriter:
        """A writer whose client waits out back-offs by recording them in `fake.sleeps`."""
        writer = BigQueryWriter(
            service_account_info=self.key_info, project=PROJECT, location=LOCATION,
            transport=httpx.MockTransport(self.fake), retry=RetryPolicy(sleep=self.fake.sleeps.append),
        )  # fmt: skip
        for name, value in self.client_settings.items():
            setattr(writer.client, name, value)
        return writer

    def q(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return self.fake.rows(query)

    def tables(self) -> list[str]:
        return self.fake.tables(self.schema)


@pytest.fixture
def fake(key_pair: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[FakeBigQuery]:
    bq = FakeBigQuery(key_pair.public_key(), tmp_path)
    yield bq
    bq.db.close()


@pytest.fixture
def wh(fake: FakeBigQuery, key_info: dict[str, Any]) -> Warehouse:
    return Warehouse(fake, key_info)


def stream(
    name: str = "households",
    mode: DestinationMode = DestinationMode.APPEND,
    schema: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ConfiguredStream:
    return ConfiguredStream(
        name=name,
        json_schema=schema or {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"}}},
        sync_mode=SyncMode.INCREMENTAL if mode == DestinationMode.APPEND_DEDUP else SyncMode.FULL_REFRESH,
        destination_mode=mode,
        **kwargs,
    )


def rec(data: dict[str, Any], name: str = "households", at: int = 1_700_000_000_000) -> Record:
    return Record(stream=name, data=data, emitted_at=at)


STATE = State(raw={"type": "STREAM", "stream": {"stream_descriptor": {"name": "households"}, "stream_state": {}}})


def load(
    wh: Warehouse,
    streams: list[ConfiguredStream],
    messages: list[Record | State],
    *,
    on_state: Callable[[State], None] | None = None,
    **kwargs: Any,
) -> Loader:
    writer = wh.writer()
    try:
        loader = Loader(writer, schema=wh.schema, streams=streams, on_state=on_state or (lambda s: None), **kwargs)
        for message in messages:
            loader.feed(message)
        loader.finish()
    finally:
        writer.close()
    return loader


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def load_jobs(fake: FakeBigQuery) -> list[str]:
    """The ids of the load jobs the fake holds."""
    return [job_id for job_id, job in fake.jobs.items() if "load" in job["configuration"]]


def statement_jobs(fake: FakeBigQuery) -> list[dict[str, Any]]:
    """The Jobs of every jobs.insert of a query job (the loader's statements), in order, repeats included."""
    return [json.loads(r.content) for r in fake.calls("POST", rf"{API}/projects/{PROJECT}/jobs")]


# --- the loader into BigQuery ----------------------------------------------------------------------

SURVEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "village": {"type": ["null", "string"]},
        "members": {"type": ["null", "integer"]},
        "income": {"type": ["null", "number"]},
        "exact": {"type": "number", "airbyte_type": "big_number"},
        "has_toilet": {"type": ["null", "boolean"]},
        "visit_date": {"type": ["null", "string"], "format": "date"},
        "surveyed_at": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "local_time": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "answers": {"type": ["null", "object"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def test_typing_and_values_through_a_load_job(wh: Warehouse) -> None:
    good = {
        "id": 1, "village": "Nandgaon", "members": 5, "income": 1234.5, "exact": "12345678901234.123456789",
        "has_toilet": True, "visit_date": "2024-03-01", "surveyed_at": "2024-03-01T10:00:00+05:30",
        "local_time": "2024-03-01T10:00:00", "answers": {"q1": "yes", "nested": [1, 2]}, "tags": ["a", "b"],
    }  # fmt: skip
    bad = {"id": 2, "members": "five", "visit_date": "not a date", "surveyed_at": None, "village": None}
    load(wh, [stream(schema=SURVEY_SCHEMA)], [rec(good), rec(bad), STATE], sync_id=42)
    assert wh.fake.field_types(wh.schema, "households") == {
        "id": "INTEGER", "village": "STRING", "members": "INTEGER", "income": "FLOAT", "exact": "NUMERIC",
        "has_toilet": "BOOLEAN", "visit_date": "DATE", "surveyed_at": "TIMESTAMP", "local_time": "DATETIME",
        "answers": "JSON", "tags": "JSON", "_airbyte_raw_id": "STRING", "_airbyte_extracted_at": "TIMESTAMP",
        "_airbyte_meta": "JSON", "_airbyte_generation_id": "INTEGER",
    }  # fmt: skip
    first, second = wh.rows(
        f"SELECT id, village, members, income, CAST(exact AS TEXT), has_toilet, visit_date, surveyed_at, local_time, "
        f"answers, tags, _airbyte_meta, _airbyte_raw_id, _airbyte_extracted_at, _airbyte_generation_id "
        f"FROM {wh.q('households')} ORDER BY id"
    )
    assert first[1:4] == ("Nandgaon", 5, 1234.5) and first[4] == "12345678901234.123456789"
    assert first[5] is True and str(first[6]) == "2024-03-01"
    assert first[7].isoformat() == "2024-03-01T04:30:00+00:00" and first[8].isoformat() == "2024-03-01T10:00:00"
    assert as_json(first[9]) == {"q1": "yes", "nested": [1, 2]} and as_json(first[10]) == ["a", "b"]
    assert as_json(first[11]) == {"changes": [], "sync_id": 42}
    assert uuid.UUID(first[12]) and first[13].timestamp() == 1_700_000_000 and first[14] == 0
    assert second[1:3] == (None, None) and second[6] is None
    meta = as_json(second[11])
    assert sorted(c["field"] for c in meta["changes"]) == ["members", "visit_date"]
    # Nothing is left behind: the staging tables were deleted after their batch.
    assert wh.tables() == ["households"]


def test_requests_are_shaped_as_documented(wh: Warehouse) -> None:
    load(wh, [stream()], [rec({"id": 1, "v": "a"}), rec({"id": 2, "v": None}), STATE])
    fake = wh.fake
    assert fake.datasets == {wh.schema: LOCATION}  # created in the warehouse's location
    assert fake.statements[0] == f"CREATE SCHEMA IF NOT EXISTS `{wh.schema}` OPTIONS (location='{LOCATION}')"
    # The load job: one multipart upload, the Job as JSON then the rows as newline-delimited JSON.
    (upload,) = fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")
    assert upload.url.params["uploadType"] == "multipart"
    assert upload.headers["Authorization"].startswith("Bearer ya29.")
    (_, meta), (_, data) = multipart_parts(upload)
    job = json.loads(meta)
    assert job["jobReference"]["projectId"] == PROJECT and job["jobReference"]["location"] == LOCATION
    load_config = job["configuration"]["load"]
    destination = load_config["destinationTable"]
    assert destination["projectId"] == PROJECT and destination["datasetId"] == wh.schema
    assert STAGE_RE.fullmatch(destination["tableId"])
    assert load_config["sourceFormat"] == "NEWLINE_DELIMITED_JSON"
    assert load_config["writeDisposition"] == "WRITE_TRUNCATE"
    assert load_config["schema"]["fields"] == [
        {"name": "id", "type": "INT64", "mode": "NULLABLE"},
        {"name": "v", "type": "STRING", "mode": "NULLABLE"},
        {"name": "_airbyte_extracted_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
        {"name": "_airbyte_raw_id", "type": "STRING", "mode": "NULLABLE"},
        {"name": "_airbyte_generation_id", "type": "INT64", "mode": "NULLABLE"},
    ]  # no _airbyte_meta: no row has a change to note, the INSERT writes the sync's meta once
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert [uuid.UUID(line.pop("_airbyte_raw_id")).version for line in lines] == [4, 4]
    assert lines == [
        {"id": 1, "v": "a", "_airbyte_extracted_at": "2023-11-14 22:13:20.000000", "_airbyte_generation_id": 0},
        {"id": 2, "v": None, "_airbyte_extracted_at": "2023-11-14 22:13:20.000000", "_airbyte_generation_id": 0},
    ]
    # Polled with jobs.get in the job's location until DONE.
    job_gets = fake.calls("GET", rf"{API}/projects/{PROJECT}/jobs/[^/]+")
    assert job_gets and all(r.url.params["location"] == LOCATION for r in job_gets)
    # Every statement: a query job inserted under a jobId of ours (jobs.insert, the Job as JSON) in
    # the location, standard SQL, no destination; never jobs.query. The batch applied by one INSERT.
    jobs = statement_jobs(fake)
    assert [j["configuration"]["query"]["query"] for j in jobs] == fake.statements
    for j in jobs:
        assert j["jobReference"]["projectId"] == PROJECT and j["jobReference"]["location"] == LOCATION
        assert re.fullmatch(r"dalgo_[0-9a-f]{32}", j["jobReference"]["jobId"])
        assert j["configuration"]["query"]["useLegacySql"] is False
        assert set(j["configuration"]["query"]) == {"query", "useLegacySql"}  # the writer has no default dataset
        assert int(j["configuration"]["jobTimeoutMs"]) > 0
    assert not fake.calls("POST", rf"{API}/projects/{PROJECT}/queries")
    inserts = [s for s in fake.statements if s.startswith("INSERT")]
    assert len(inserts) == 1 and f"FROM `{wh.schema}`.`{destination['tableId']}` AS `s`" in inserts[0]
    assert """PARSE_JSON('{"changes":[],"sync_id":null}'""" in inserts[0]
    # Then the staging table is deleted (tables.delete).
    (delete,) = fake.calls("DELETE", rf"{API}/projects/{PROJECT}/datasets/{wh.schema}/tables/_dalgo_stage_\w+")
    assert delete.url.path.endswith(destination["tableId"])


def test_append_adds_rows_each_sync(wh: Warehouse) -> None:
    s = stream()
    load(wh, [s], [rec({"id": 1, "v": "a"}), rec({"id": 2, "v": "b"}), STATE])
    load(wh, [s], [rec({"id": 1, "v": "a2"}), STATE])
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')} ORDER BY id, v") == [(1, "a"), (1, "a2"), (2, "b")]


def test_overwrite_swaps_at_the_end_in_one_statement(wh: Warehouse) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(wh, [s], [rec({"id": i, "v": "old"}) for i in range(3)])
    writer = wh.writer()
    seen_during: list[list[tuple[Any, ...]]] = []
    loader = Loader(
        writer, schema=wh.schema, streams=[s], batch_rows=2,
        on_state=lambda _: seen_during.append(wh.rows(f"SELECT DISTINCT v FROM {wh.q('households')}")),
    )  # fmt: skip
    for i in range(5):
        loader.feed(rec({"id": i, "v": "new"}))
    loader.feed(STATE)
    assert wh.rows(f"SELECT v, COUNT(*) FROM {wh.q('households')} GROUP BY v") == [("old", 3)]
    (tmp,) = [t for t in wh.tables() if t.startswith("_dalgo_tmp_households_")]
    swap_from = len(wh.fake.statements)
    loader.finish()
    writer.close()
    assert seen_during == [[("old",)]]
    assert wh.rows(f"SELECT v, COUNT(*) FROM {wh.q('households')} GROUP BY v") == [("new", 5)]
    assert wh.tables() == ["households"]
    assert wh.fake.statements[swap_from:] == [
        f"CREATE OR REPLACE TABLE `{wh.schema}`.`households` AS SELECT * FROM `{wh.schema}`.`{tmp}`",
        f"DROP TABLE IF EXISTS `{wh.schema}`.`{tmp}`",
    ]


def test_abort_leaves_the_old_table_intact(wh: Warehouse) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(wh, [s], [rec({"id": i, "v": "old"}) for i in range(3)])
    writer = wh.writer()
    loader = Loader(writer, schema=wh.schema, streams=[s], on_state=lambda _: None, batch_rows=2)
    for i in range(5):
        loader.feed(rec({"id": i, "v": "new"}))
    loader.abort()
    writer.close()
    assert wh.rows(f"SELECT v, COUNT(*) FROM {wh.q('households')} GROUP BY v") == [("old", 3)]
    assert wh.tables() == ["households"]


def test_append_dedup_keeps_the_latest_by_cursor(wh: Warehouse) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"},
                                               "updated": {"type": "string", "format": "date-time"}}}  # fmt: skip
    s = stream(mode=DestinationMode.APPEND_DEDUP, schema=schema, primary_key=(("id",),), cursor_field=("updated",))
    first = [rec({"id": i, "v": f"v{i}", "updated": f"2024-01-0{1 + i % 3}T00:00:00Z"}) for i in range(6)]
    load(wh, [s], [*first, STATE], batch_rows=4)
    again = [
        *first,
        rec({"id": 0, "v": "older", "updated": "2023-12-31T00:00:00Z"}),
        rec({"id": 1, "v": "newer", "updated": "2024-02-01T00:00:00Z"}),
        rec({"id": 2, "v": "mid", "updated": "2024-02-01T00:00:00Z"}),
        rec({"id": 2, "v": "latest", "updated": "2024-02-02T00:00:00Z"}),
        rec({"id": 3, "v": "tie-later", "updated": "2024-01-01T00:00:00Z"}, at=1_800_000_000_000),
        rec({"id": 9, "v": "new key", "updated": None}),
    ]
    load(wh, [s], [*again, STATE], batch_rows=5)
    load(wh, [s], [*again, STATE], batch_rows=1000)
    rows = wh.rows(f"SELECT id, v FROM {wh.q('households')} ORDER BY id")
    assert rows == [(0, "v0"), (1, "newer"), (2, "latest"), (3, "tie-later"), (4, "v4"), (5, "v5"), (9, "new key")]
    merges = [s for s in wh.fake.statements if s.startswith("MERGE")]
    # Batches with a repeated key rank their rows; the others (e.g. the first sync's) merge as they are.
    ranked = ["ROW_NUMBER() OVER (PARTITION BY `id`" in m for m in merges]
    assert any(ranked) and not all(ranked)
    assert wh.tables() == ["households"]


def test_state_reaches_the_callback_only_after_its_batch_is_applied(wh: Warehouse) -> None:
    visible: list[tuple[int, int]] = []
    fed = {"a": 0, "b": 0}

    def on_state(state: State) -> None:
        count_a = wh.rows(f"SELECT COUNT(*) FROM {wh.q('a')}")[0][0]
        count_b = wh.rows(f"SELECT COUNT(*) FROM {wh.q('b')}")[0][0]
        visible.append((count_a - fed["a"], count_b - fed["b"]))

    writer = wh.writer()
    loader = Loader(writer, schema=wh.schema, streams=[stream("a"), stream("b")], on_state=on_state, batch_rows=7)
    for i in range(40):
        name = "a" if i % 3 else "b"
        loader.feed(rec({"id": i}, name=name))
        fed[name] += 1
        if i % 9 == 8:
            loader.feed(State(raw={"type": "LEGACY", "data": {"i": i}}))
    loader.feed(State(raw={"type": "LEGACY", "data": {"i": 40}}))
    stats = loader.finish()
    writer.close()
    assert visible == [(0, 0)] * 5
    assert stats.states == 5 and stats.records == 40 and stats.streams["a"].batches >= 3


def test_schema_evolution(wh: Warehouse) -> None:
    v1 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "integer"},
                                           "gone": {"type": "string"}, "k": {"type": "integer"}}}  # fmt: skip
    load(wh, [stream(schema=v1)], [rec({"id": 1, "n": 5, "gone": "g", "k": 1}), STATE])
    v2 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "integer"},
                                           "added": {"type": ["null", "boolean"]}}}  # fmt: skip
    messages: list[Record | State] = [
        rec({"id": 2, "n": 6, "added": True}),
        STATE,
        rec({"id": 3, "n": 7.5, "surprise": {"k": 1}}),
        rec({"id": "four", "n": 8, "k": {"nested": True}}),  # k: integer -> object, the column becomes JSON
        STATE,
    ]
    first = len(wh.fake.statements)
    load(wh, [stream(schema=v2)], messages, batch_rows=1)
    types = wh.fake.field_types(wh.schema, "households")
    assert types["n"] == "FLOAT" and types["gone"] == "STRING" and types["added"] == "BOOLEAN"
    assert types["surprise"] == "JSON" and types["k"] == "JSON"
    assert list(types)[:4] == ["id", "n", "gone", "k"]  # rewritten in place, order kept
    ddl = [s for s in wh.fake.statements[first:] if s.startswith(("ALTER", "CREATE OR REPLACE"))]
    q = f"`{wh.schema}`.`households`"
    assert f"ALTER TABLE {q} ALTER COLUMN `n` SET DATA TYPE FLOAT64" in ddl  # a coercion BigQuery does in place
    assert f"CREATE OR REPLACE TABLE {q} AS SELECT * REPLACE (TO_JSON(`k`) AS `k`) FROM {q}" in ddl
    rows = wh.rows(f"SELECT id, n, gone, added, k, _airbyte_meta FROM {wh.q('households')} ORDER BY n")
    assert [r[:4] for r in rows] == [(1, 5.0, "g", None), (2, 6.0, None, True), (3, 7.5, None, None),
                                     (None, 8.0, None, None)]  # fmt: skip
    assert [as_json(r[4]) for r in rows] == [1, None, None, {"nested": True}]
    assert as_json(rows[3][5])["changes"][0]["field"] == "id"
    # The schema now says "n" is text: BigQuery cannot change FLOAT64 to STRING in place; the table
    # is rewritten by one statement, old values kept.
    v3 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "string"}}}
    load(wh, [stream(schema=v3)], [rec({"id": 5, "n": "five"})])
    assert wh.fake.field_types(wh.schema, "households")["n"] == "STRING"
    assert f"CREATE OR REPLACE TABLE {q} AS SELECT * REPLACE (CAST(`n` AS STRING) AS `n`) FROM {q}" in (
        wh.fake.statements
    )
    values = sorted(r[0].removesuffix(".0") for r in wh.rows(f"SELECT n FROM {wh.q('households')}"))
    assert values == ["5", "6", "7.5", "8", "five"]  # DuckDB writes 5.0 where BigQuery writes 5


def test_zero_records_create_empty_tables(wh: Warehouse) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(wh, [s, stream("empty_append")], [])
    assert wh.rows(f"SELECT COUNT(*) FROM {wh.q('households')}") == [(0,)]
    assert "id" in wh.fake.field_types(wh.schema, "empty_append")
    load(wh, [s], [rec({"id": 1})])
    load(wh, [s], [STATE])
    assert wh.rows(f"SELECT COUNT(*) FROM {wh.q('households')}") == [(0,)]
    assert wh.tables() == ["empty_append", "households"]
    assert not wh.fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")[1:]  # one batch had rows


def test_slow_jobs_are_polled_until_done(wh: Warehouse) -> None:
    wh.fake.job_polls, wh.fake.query_polls = 3, 1
    load(wh, [stream()], [rec({"id": 1, "v": "a"}), STATE])
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')}") == [(1, "a")]
    gets = Counter(r.url.path.rpartition("/")[2] for r in wh.fake.calls("GET", rf"{API}/projects/{PROJECT}/jobs/[^/]+"))
    (load_job,) = [j for j in wh.fake.jobs if "load" in wh.fake.jobs[j]["configuration"]]
    # The load job: jobs.insert answered RUNNING, then jobs.get three times RUNNING and once DONE.
    assert gets.pop(load_job) == 4
    # Each statement's job: jobs.insert answered RUNNING, then jobs.get once RUNNING and once DONE.
    assert sorted(gets) == sorted(j["jobReference"]["jobId"] for j in statement_jobs(wh.fake))
    assert set(gets.values()) == {2} and len(gets) == len(wh.fake.statements)


def test_a_failed_load_job_says_what_bigquery_said(wh: Warehouse) -> None:
    writer = wh.writer()
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    batch = pa.table({"id": pa.array(["not a number"])})
    with pytest.raises(WarehouseError, match=r"BigQuery job dalgo_\w+ failed: Error while reading data.*"):
        writer.stage(batch, {"id": ColumnType.BIGINT}, schema=wh.schema)
    writer.rollback()  # what the loader does next: nothing of the batch stays
    assert wh.tables() == []
    assert len(wh.fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")) == 1  # reason invalid: not run again
    with pytest.raises(WarehouseError, match=r"^Syntax error: "):
        writer.execute("SELEC 1")
    writer.close()


def test_introspection(wh: Warehouse) -> None:
    writer = wh.writer()
    assert writer.tables(wh.schema) == [] and writer.table_columns(wh.schema, "t") is None  # no dataset yet
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    columns = {"a": ColumnType.TIMESTAMP, "b": ColumnType.NUMERIC, **METADATA_COLUMNS}
    for name in ("t1", "t2", "t3"):  # more than one page of tables.list
        writer.execute(sql.create_table(wh.schema, name, columns, dialect="bigquery"))
    assert sorted(writer.tables(wh.schema)) == ["t1", "t2", "t3"]
    assert writer.table_columns(wh.schema, "t1") == columns
    assert writer.table_columns(wh.schema, "missing") is None
    assert writer.dependents(wh.schema, "t1") == []
    writer.close()


# --- the generated SQL, compiled as BigQuery ------------------------------------------------------


def test_generated_statements_compile_as_bigquery() -> None:
    """Every statement kind the loader generates for BigQuery parses with sqlglot's BigQuery dialect
    and avoids what BigQuery rejects: CAST to JSON (PARSE_JSON instead), ALTER COLUMN ... USING,
    DROP + RENAME for the swap. (They also ran, transpiled to DuckDB, in the tests above; sqlglot
    drops PARSE_JSON's wide_number_mode there, which DuckDB does not need.)"""
    staged = {"id": ColumnType.BIGINT, "j": ColumnType.JSON, "n": ColumnType.NUMERIC, "t": ColumnType.TIMESTAMP}
    target = {**staged, "x": ColumnType.TEXT, **METADATA_COLUMNS}
    stage = sql.table("raw", "_dalgo_stage_0123456789ab")
    common: dict[str, Any] = {"schema": "raw", "name": "t", "stage": stage, "staged": staged, "target": target,
                              "dialect": "bigquery"}  # fmt: skip
    statements = [
        sql.create_schema("raw", dialect="bigquery", location="EU"),
        sql.create_table("raw", "t", target, dialect="bigquery"),
        sql.add_column("raw", "t", "x", ColumnType.JSON, dialect="bigquery"),
        sql.alter_column_type("raw", "t", "id", ColumnType.BIGINT, ColumnType.NUMERIC, dialect="bigquery"),
        sql.alter_column_type("raw", "t", "j", ColumnType.JSON, ColumnType.TEXT, dialect="bigquery"),
        sql.alter_column_type("raw", "t", "t", ColumnType.TIMESTAMP, ColumnType.TIMESTAMPTZ, dialect="bigquery"),
        sql.replace_table("raw", "t", "_dalgo_tmp_t_0123456789ab", dialect="bigquery"),
        sql.drop_table("raw", "t", dialect="bigquery"),
        sql.insert_from_stage(**common),
        *sql.merge_from_stage(**common, primary_key=["id"], cursor="t", null_keys=True),
    ]
    for statement in statements[1:]:
        tree = sqlglot.parse_one(statement, read="bigquery")
        assert tree.sql("bigquery") == statement  # round-trips: nothing sqlglot could not read
    # sqlglot reads OPTIONS (location=...) as its LocationProperty and writes that back as
    # LOCATION '...', which BigQuery does not accept; so sql.create_schema builds the OPTIONS itself.
    assert isinstance(sqlglot.parse_one(statements[0], read="bigquery"), exp.Create)
    for statement in statements:
        assert "AS JSON)" not in statement and not re.search(r"ALTER COLUMN .* USING ", statement)
        assert "RENAME" not in statement
    assert statements[0] == "CREATE SCHEMA IF NOT EXISTS `raw` OPTIONS (location='EU')"
    assert statements[3] == "ALTER TABLE `raw`.`t` ALTER COLUMN `id` SET DATA TYPE NUMERIC"
    assert statements[4] == (
        "CREATE OR REPLACE TABLE `raw`.`t` AS SELECT * REPLACE (TO_JSON_STRING(`j`) AS `j`) FROM `raw`.`t`"
    )
    insert = statements[8]
    assert "PARSE_JSON(`s`.`j`, wide_number_mode => 'round')" in insert
    assert "PARSE_JSON(`s`.`_airbyte_meta`, wide_number_mode => 'round')" in insert
    assert "`s`.`_airbyte_raw_id`" in insert and "CAST(`s`.`n` AS NUMERIC)" in insert


def test_a_bigquery_warehouse_gets_a_bigquery_writer(key_info: dict[str, Any]) -> None:
    from dalgo.core.errors import ValidationFailed
    from dalgo.ingestion.connections import warehouse_writer
    from dalgo.warehouses.models import Warehouse as WarehouseModel

    config = {"project": PROJECT, "location": LOCATION, "dataset": "analytics"}
    warehouse = WarehouseModel(type="bigquery", config=config, secrets={"service_account_json": json.dumps(key_info)})
    writer = warehouse_writer(warehouse)  # no request until it is used
    assert isinstance(writer, BigQueryWriter) and writer.dialect == "bigquery" and writer.location == LOCATION
    assert (writer.client.project, writer.client.dataset, writer.client.client_email) == (PROJECT, "analytics", EMAIL)
    writer.close()
    warehouse.secrets = {"service_account_json": "{not json"}
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        warehouse_writer(warehouse)


# --- the failures BigQuery documents ---------------------------------------------------------------
# Every failure injected below is one BigQuery documents (tests/bigquery_support.py cites where):
# 5xx backendError/internalError and 429/403 rateLimitExceeded are transient; a request without an
# answer may have been carried out; jobs.insert of a jobId already taken is answered 409 duplicate;
# a job (load or query) that ends with a transient errorResult changed nothing and may run again
# ("You can safely retry the job without concerns about data consistency"); invalid/invalidQuery
# (400), accessDenied/quotaExceeded (403) and notFound (404) are not transient.


def _sql(job: dict[str, Any]) -> str:
    """The SQL of a query job."""
    return str(job["configuration"]["query"]["query"])


def _statement(request: httpx.Request) -> str:
    """The SQL of a jobs.insert of a query job."""
    return _sql(json.loads(request.content))


def _job_id(upload: httpx.Request) -> str:
    (_, meta), _ = multipart_parts(upload)
    return str(json.loads(meta)["jobReference"]["jobId"])


def test_transient_failures_are_retried_and_the_rows_land_once(wh: Warehouse) -> None:
    """A sync through one failure of each transient kind, as BigQuery documents them: a 429
    rateLimitExceeded (nothing ran), a 500 internalError, a 503 backendError answering jobs.insert
    (nothing ran), a jobs.insert that created the job but whose answer was lost (the next try of that
    jobId is answered 409 duplicate), a 503 while polling, the INSERT's query job created and run with
    its answer lost (the repeat of its jobId is answered 409 and the job polled), and a tables.delete
    that deleted but answered 503 (the repeat is a 404). Every row lands once."""
    fake = wh.fake
    fake.faults.plan("jobs.insert (query)", bigquery_faults.rate_limited(429), on=1)
    fake.faults.plan("tables.get", bigquery_faults.internal_error(), on=1)
    fake.faults.plan("jobs.insert", bigquery_faults.unavailable(), on=1)
    fake.faults.plan("jobs.insert", bigquery_faults.lost(), on=2)
    fake.faults.plan("jobs.get", bigquery_faults.unavailable(), on=1)
    fake.faults.plan("jobs.insert (query)", bigquery_faults.lost(), when=lambda r: _statement(r).startswith("INSERT"))
    fake.faults.plan("tables.delete", bigquery_faults.unavailable(after_work=True), on=1)
    load(wh, [stream()], [rec({"id": 1, "v": "a"}), rec({"id": 2, "v": "b"}), STATE])
    assert fake.faults.pending == []
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')} ORDER BY id") == [(1, "a"), (2, "b")]
    assert wh.tables() == ["households"]
    # The load job: three tries of one jobId (503, lost, 409), then polled; one job exists.
    uploads = fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")
    assert len(uploads) == 3 and len({_job_id(u) for u in uploads}) == 1
    assert load_jobs(fake) == [_job_id(uploads[0])]
    # The INSERT: its job inserted twice under one jobId, run once.
    inserts = [j for j in statement_jobs(fake) if j["configuration"]["query"]["query"].startswith("INSERT")]
    assert len(inserts) == 2 and inserts[0]["jobReference"] == inserts[1]["jobReference"]
    assert [s for s in fake.statements if s.startswith("INSERT")] == [inserts[0]["configuration"]["query"]["query"]]
    # One back-off per retry: 1 s and up to 1 s of jitter before a request's first retry, twice
    # that before its second (the load job's third try).
    assert sorted(int(s) for s in fake.sleeps) == [1, 1, 1, 1, 1, 1, 2]


def test_a_load_job_failing_for_a_transient_reason_runs_again(wh: Warehouse) -> None:
    """A job that ends DONE with errorResult reason backendError failed as a whole ("You can safely
    retry the job without concerns about data consistency", BigQuery's error messages): it is
    inserted again under a new jobId, and the rows land once."""
    wh.fake.faults.plan("load job", bigquery_faults.unavailable())
    load(wh, [stream()], [rec({"id": 1, "v": "a"}), STATE])
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')}") == [(1, "a")]
    first, second = [_job_id(u) for u in wh.fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")]
    assert first != second
    assert wh.fake.jobs[first]["status"]["errorResult"]["reason"] == "backendError"
    assert "errorResult" not in wh.fake.jobs[second]["status"]
    assert wh.tables() == ["households"]


BATCH = pa.table({"id": pa.array([1, 2], pa.int64())})


def test_a_load_job_failing_for_a_transient_reason_every_time_runs_a_bounded_number_of_times(
    wh: Warehouse,
) -> None:
    """internalError each run: JOB_ATTEMPTS runs, then BigQuery's message as a WarehouseUnreachable
    (try again later); nothing of the batch stays."""
    wh.fake.faults.plan("load job", bigquery_faults.internal_error(), on=range(1, 10))
    writer = wh.writer()
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    with pytest.raises(WarehouseUnreachable, match=r"BigQuery job dalgo_\w+ failed: An internal error occurred"):
        writer.stage(BATCH, {"id": ColumnType.BIGINT}, schema=wh.schema)
    writer.close()
    assert len(wh.fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")) == JOB_ATTEMPTS
    assert wh.tables() == []


def _second_sync(wh: Warehouse, mode: DestinationMode, plan: Callable[[], None]) -> tuple[int, int]:
    """Sync ids 1, 2, then `plan()` the failures and sync 2 (changed) and 3: where the statement jobs
    and statements of the second sync start."""
    s = stream(mode=mode, primary_key=(("id",),) if mode == DestinationMode.APPEND_DEDUP else ())
    load(wh, [s], [rec({"id": 1, "v": "a"}), rec({"id": 2, "v": "b"}), STATE])
    jobs, statements = len(statement_jobs(wh.fake)), len(wh.fake.statements)
    plan()
    load(wh, [s], [rec({"id": 2, "v": "b2"}), rec({"id": 3, "v": "c"}), STATE])
    return jobs, statements


SECOND_SYNC_ROWS = {
    DestinationMode.APPEND: [(1, "a"), (2, "b"), (2, "b2"), (3, "c")],
    DestinationMode.APPEND_DEDUP: [(1, "a"), (2, "b2"), (3, "c")],
}


@pytest.mark.parametrize(
    ("mode", "verb"), [(DestinationMode.APPEND, "INSERT"), (DestinationMode.APPEND_DEDUP, "MERGE")]
)
def test_a_statement_failing_for_a_transient_reason_runs_again_and_applies_once(
    wh: Warehouse, mode: DestinationMode, verb: str
) -> None:
    """The query job of the statement that applies a batch (INSERT ... SELECT, MERGE) ends DONE with
    errorResult backendError. A job is all or nothing, DML included, so it changed nothing ("You can
    safely retry the job without concerns about data consistency", BigQuery's error messages): after
    one back-off the statement runs again as a new job under a new jobId, and the rows land once."""
    fake = wh.fake

    def plan() -> None:
        fake.faults.plan("query job", bigquery_faults.unavailable(), when=lambda r: _statement(r).startswith(verb))

    jobs_from, statements_from = _second_sync(wh, mode, plan)
    assert fake.faults.pending == []
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')} ORDER BY id, v") == SECOND_SYNC_ROWS[mode]
    runs = [j for j in statement_jobs(fake)[jobs_from:] if _sql(j).startswith(verb)]
    assert len(runs) == 2 and _sql(runs[0]) == _sql(runs[1])
    first, second = (fake.jobs[j["jobReference"]["jobId"]] for j in runs)
    assert first["jobReference"]["jobId"] != second["jobReference"]["jobId"]
    assert first["status"]["errorResult"]["reason"] == "backendError" and "statistics" not in first
    assert "errorResult" not in second["status"]
    assert second["statistics"]["query"] == {"statementType": verb, "numDmlAffectedRows": "2"}
    assert [s for s in fake.statements[statements_from:] if s.startswith(verb)] == [_sql(runs[0])]  # ran once
    assert [int(s) for s in fake.sleeps] == [1]  # one back-off: 1 s and up to 1 s of jitter, not slept here
    assert wh.tables() == ["households"]


def test_a_statement_failing_for_a_transient_reason_every_time_runs_a_bounded_number_of_times(
    wh: Warehouse,
) -> None:
    """internalError at the end of each run: JOB_ATTEMPTS runs, each a new job under its own jobId,
    with back-offs of 1 and 2 s (each with up to 1 s of jitter) between them; then a
    WarehouseUnreachable that says the statement failed for a transient reason on every run, with
    BigQuery's message. The statement never applied."""
    writer = wh.writer()
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    before, statements = len(statement_jobs(wh.fake)), list(wh.fake.statements)
    taken = wh.fake.faults.calls["query job"]
    wh.fake.faults.plan("query job", bigquery_faults.internal_error(), on=range(taken + 1, taken + 10))
    statement = sql.create_table(wh.schema, "households", {"id": ColumnType.BIGINT}, dialect="bigquery")
    with pytest.raises(WarehouseUnreachable) as caught:
        writer.execute(statement)
    writer.close()
    runs = statement_jobs(wh.fake)[before:]
    assert len(runs) == JOB_ATTEMPTS and {_sql(j) for j in runs} == {statement}
    assert len({j["jobReference"]["jobId"] for j in runs}) == JOB_ATTEMPTS
    assert caught.value.detail.startswith(
        f"BigQuery is temporarily unavailable: the statement failed for a transient reason (internalError) "
        f"on each of its {JOB_ATTEMPTS} run(s), the last as job {runs[-1]['jobReference']['jobId']}; try again "
        "later. BigQuery said: An internal error occurred"
    )
    assert [int(s) for s in wh.fake.sleeps] == [1, 2]
    assert wh.fake.statements == statements and wh.tables() == []


@pytest.mark.parametrize("fault", [bigquery_faults.lost(), bigquery_faults.unavailable(after_work=True)],
                         ids=["answer lost", "503 after the work"])  # fmt: skip
def test_a_statement_job_whose_insert_answer_was_lost_is_polled_not_run_again(
    wh: Warehouse, fault: bigquery_faults.Fault
) -> None:
    """jobs.insert created the MERGE's query job (it ran) but its answer was lost, or replaced by a
    503: the insert is repeated under the same jobId, answered 409 duplicate, and the job that exists
    is fetched with jobs.get and waited on. The MERGE ran once; the rows land once."""
    fake = wh.fake

    def plan() -> None:
        fake.faults.plan("jobs.insert (query)", fault, when=lambda r: _statement(r).startswith("MERGE"))

    jobs_from, statements_from = _second_sync(wh, DestinationMode.APPEND_DEDUP, plan)
    assert fake.faults.pending == []
    rows = wh.rows(f"SELECT id, v FROM {wh.q('households')} ORDER BY id")
    assert rows == SECOND_SYNC_ROWS[DestinationMode.APPEND_DEDUP]
    tries = [j for j in statement_jobs(fake)[jobs_from:] if _sql(j).startswith("MERGE")]
    assert len(tries) == 2 and tries[0] == tries[1]  # the same Job, its jobId included
    job_id = tries[0]["jobReference"]["jobId"]
    assert fake.calls("GET", rf"{API}/projects/{PROJECT}/jobs/{job_id}")  # the job that exists, fetched
    assert [s for s in fake.statements[statements_from:] if s.startswith("MERGE")] == [_sql(tries[0])]
    assert fake.jobs[job_id]["statistics"]["query"]["numDmlAffectedRows"] == "2"
    assert [int(s) for s in fake.sleeps] == [1]


@pytest.mark.parametrize(
    ("kind", "fault", "error"),
    [
        ("jobs.insert", bigquery_faults.access_denied(), WarehousePrivileges),
        ("jobs.insert", bigquery_faults.quota_exceeded(), WarehouseError),
        ("jobs.insert", bigquery_faults.invalid("Invalid value for sourceFormat"), WarehouseError),
        ("jobs.get", bigquery_faults.not_found("Not found: Job ngo-data:asia-south1.dalgo_0"), WarehouseMissing),
        ("jobs.insert (query)", bigquery_faults.invalid("Syntax error: Unexpected end", "invalid"), WarehouseError),
        ("jobs.insert (query)", bigquery_faults.access_denied("Access Denied: Project ngo-data"), WarehousePrivileges),
        # A query job that ends DONE with a non-transient errorResult.
        ("query job", bigquery_faults.invalid("Syntax error: Unexpected end", "invalidQuery"), WarehouseError),
        ("query job", bigquery_faults.access_denied("Access Denied: Table ngo-data:raw.t"), WarehousePrivileges),
        ("query job", bigquery_faults.not_found("Not found: Table ngo-data:raw.t"), WarehouseMissing),
        ("query job", bigquery_faults.quota_exceeded(), WarehouseError),
    ],
)
def test_errors_that_are_not_transient_fail_at_once(
    wh: Warehouse, kind: str, fault: bigquery_faults.Fault, error: type[WarehouseError]
) -> None:
    """invalid/invalidQuery (400), accessDenied and quotaExceeded (403) and notFound (404) are not
    transient in BigQuery's docs, whether they answer a request or end a job: one request (one job),
    no back-off, BigQuery's message in the error (the whole error where there is no more to say)."""
    writer = wh.writer()
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    before = wh.fake.faults.calls[kind]
    wh.fake.faults.plan(kind, fault, on=before + 1)
    statements = len(wh.fake.statements)
    with pytest.raises(WarehouseError) as caught:
        if kind in ("jobs.insert (query)", "query job"):
            writer.execute("SELECT 1")
        else:
            writer.stage(BATCH, {"id": ColumnType.BIGINT}, schema=wh.schema)
    assert type(caught.value) is error and fault.message in caught.value.detail
    if error is WarehouseError:
        assert caught.value.detail == fault.message
    assert wh.fake.faults.calls[kind] == before + 1 and wh.fake.sleeps == []
    assert len(wh.fake.statements) == statements  # the statement never ran
    writer.close()
    assert wh.tables() == []


def test_a_lasting_outage_gives_up_after_a_bounded_number_of_tries(wh: Warehouse) -> None:
    """503 backendError every time: the request is tried RETRY_ATTEMPTS times with truncated
    exponential back-off (1, 2, 4, 8, 16 s, each with up to 1 s of jitter), then the error is raised."""
    writer = wh.writer()
    writer.execute(sql.create_schema(wh.schema, dialect="bigquery", location=LOCATION))
    wh.fake.faults.plan("jobs.get", bigquery_faults.unavailable(), on=range(1, 100))
    with pytest.raises(WarehouseUnreachable, match=r"temporarily unavailable \(HTTP 503\)"):
        writer.stage(BATCH, {"id": ColumnType.BIGINT}, schema=wh.schema)
    assert wh.fake.faults.calls["jobs.get"] == RETRY_ATTEMPTS
    assert [int(s) for s in wh.fake.sleeps] == [1, 2, 4, 8, 16]
    writer.close()


def test_stale_staging_tables_are_swept_and_fresh_ones_kept(wh: Warehouse, caplog: pytest.LogCaptureFixture) -> None:
    """tables.list gives each table's creationTime (milliseconds since the epoch, an int64 sent as a
    JSON string). The first stage into a dataset deletes the writer's own kind of staging table
    (`_dalgo_stage_` and 12 hex digits) created more than BIGQUERY_STALE_STAGE_SECONDS ago: left by a
    batch whose process died before its delete. Younger ones may be a running sync's and stay, as do
    other tables; a writer looks once per dataset."""
    caplog.set_level(logging.INFO, logger="dalgo.ingestion.loader.writers")
    fake, day = wh.fake, BIGQUERY_STALE_STAGE_SECONDS
    for name, age in [("_dalgo_stage_00000000000a", day + 60), ("_dalgo_stage_00000000000b", 3 * day),
                      ("_dalgo_stage_00000000000c", day - 600), ("_dalgo_stage_notes", 3 * day),
                      ("visits", 3 * day)]:  # fmt: skip
        fake.make_table(wh.schema, name, age_seconds=age)
    writer = wh.writer()
    writer.stage(BATCH, {"id": ColumnType.BIGINT}, schema=wh.schema)
    writer.rollback()
    kept = ["_dalgo_stage_00000000000c", "_dalgo_stage_notes", "visits"]
    assert wh.tables() == kept
    (swept,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Deleted")]
    assert swept.startswith(f"Deleted 2 BigQuery staging table(s) older than 24 h from {wh.schema}")
    assert "_dalgo_stage_00000000000a" in swept and "_dalgo_stage_00000000000b" in swept
    # Once per dataset per writer: a stage left now waits for the next writer.
    fake.make_table(wh.schema, "_dalgo_stage_00000000000d", age_seconds=2 * day)
    writer.stage(BATCH, {"id": ColumnType.BIGINT}, schema=wh.schema)
    writer.close()
    assert "_dalgo_stage_00000000000d" in wh.tables()
    load(wh, [stream()], [rec({"id": 1}), STATE])
    assert wh.tables() == [*kept[:2], "households", "visits"]


def test_a_failed_sweep_is_logged_and_the_batch_goes_on(wh: Warehouse, caplog: pytest.LogCaptureFixture) -> None:
    """The sweep is housekeeping: an accessDenied (403) deleting an old stage is logged; the rows load."""
    wh.fake.make_table(wh.schema, "_dalgo_stage_00000000000a", age_seconds=2 * BIGQUERY_STALE_STAGE_SECONDS)
    wh.fake.faults.plan("tables.delete", bigquery_faults.access_denied("Access Denied: Table"), on=1)
    load(wh, [stream()], [rec({"id": 1, "v": "a"}), STATE])
    assert wh.rows(f"SELECT id, v FROM {wh.q('households')}") == [(1, "a")]
    assert f"Could not sweep old BigQuery staging tables from {wh.schema}" in caplog.text
    assert wh.tables() == ["_dalgo_stage_00000000000a", "households"]


def test_a_large_batch_goes_by_resumable_upload_through_308s_503s_and_a_lost_answer(wh: Warehouse) -> None:
    """Above the client's resumable_threshold the load job goes by Google's resumable upload protocol
    (`UploadSessions`, as https://cloud.google.com/bigquery/docs/reference/api-uploads documents it):
    POST ?uploadType=resumable with the Job as JSON, then PUTs of 256 KiB chunks answered 308 with
    the Range held. A 503 after the session stored a chunk, a 503 before it did, and a final chunk
    whose answer (the Job) was lost are each followed by a status query ("bytes */total") and the
    upload goes on from what the session holds: no byte sent twice, every row loaded once."""
    granule = 256 * 1024
    wh.client_settings = {"resumable_threshold": granule, "upload_chunk": granule}
    fake = wh.fake

    def final_chunk(request: httpx.Request) -> bool:
        span, _, total = request.headers["content-range"].removeprefix("bytes ").partition("/")
        return span != "*" and int(span.partition("-")[2]) + 1 == int(total)

    fake.faults.plan("upload.put", bigquery_faults.unavailable(after_work=True), on=2)
    fake.faults.plan("upload.put", bigquery_faults.unavailable(), on=4)
    fake.faults.plan("upload.put", bigquery_faults.lost(), when=final_chunk)
    records = [rec({"id": i, "v": f"{i:06d}" + "x" * 200}) for i in range(3000)]
    load(wh, [stream()], [*records, STATE])
    assert fake.faults.pending == []
    assert wh.rows(f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {wh.q('households')}") == [(3000, 3000)]
    assert wh.tables() == ["households"]
    (start,) = fake.calls("POST", rf"{UPLOAD}/projects/{PROJECT}/jobs")
    assert start.url.params["uploadType"] == "resumable"
    assert start.headers["x-upload-content-type"] == "application/octet-stream"
    assert json.loads(start.content)["configuration"]["load"]["sourceFormat"] == "NEWLINE_DELIMITED_JSON"
    total = int(start.headers["x-upload-content-length"])
    assert total > 4 * granule
    ranges = [r.headers["content-range"] for r in fake.calls("PUT", rf"{UPLOAD}/projects/{PROJECT}/jobs")]

    def chunk(n: int) -> str:
        return f"bytes {n * granule}-{min((n + 1) * granule, total) - 1}/{total}"

    query = f"bytes */{total}"
    last = (total - 1) // granule
    assert ranges == [chunk(0), chunk(1), query, chunk(2), query, chunk(2), *map(chunk, range(3, last + 1)), query]
    assert len(load_jobs(fake)) == 1
