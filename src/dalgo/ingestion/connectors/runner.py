"""Runs an installed connector as a subprocess over the Airbyte protocol: spec, check, discover, read.

Each call starts the connector in its own process group (so a timeout or `cancel()` kills it and
anything it spawned), passes config/catalog/state as 0600 files in a private temp dir deleted
afterwards, reads stdout in chunks framed into lines (no line-length limit; orjson; non-UTF-8
decoded with replacement) and, for `read`, runs of RECORD lines handed on unparsed
(`protocol.frames`), and forwards LOG messages and stderr to `on_log(level, text)` with secrets
redacted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from jsonschema import validators
from jsonschema.exceptions import ValidationError

from dalgo.core.errors import ValidationFailed
from dalgo.ingestion.connectors.errors import ConnectorCancelled, ConnectorFailed, ConnectorTimeout
from dalgo.ingestion.connectors.install import ConnectorEnv
from dalgo.ingestion.protocol import (
    ConfiguredStream,
    ControlConfig,
    Log,
    Message,
    Other,
    RawRecords,
    Trace,
    frames,
    parse_message,
)

LogCallback = Callable[[str, str], None]
SPEC_CACHE = "spec.json"
DEFAULT_TIMEOUT_SECONDS = 300.0
KILL_GRACE_SECONDS = 3.0
MALFORMED_LINE = "The connector sent a line that is not a protocol message"
MASK = "**********"
_MAX_LOG_CHARS = 20_000
_READ_SIZE = 1 << 20
_SECRET_KEY_RE = re.compile(r"pass|token|secret|key|credential", re.IGNORECASE)
_ENV_PASSTHROUGH = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def _ignore_log(level: str, text: str) -> None:
    return None


class Redactor:
    """Replaces every secret value of a config (and its JSON-escaped form) with a mask."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add_config(self, config: Any, spec_schema: dict[str, Any] | None) -> None:
        for value in _secret_values(config, spec_schema or {}, key=""):
            if value and len(value) >= 3:
                self._secrets.add(value)
                escaped = orjson.dumps(value).decode()[1:-1]
                self._secrets.add(escaped)
        if self._secrets:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text


def _secret_values(value: Any, schema: dict[str, Any], *, key: str) -> Iterator[str]:
    """Strings marked `airbyte_secret` in the spec (oneOf/anyOf/allOf branches included), plus any
    string longer than 5 chars whose key looks secret."""
    if isinstance(value, str):
        if schema.get("airbyte_secret") or (len(value) > 5 and _SECRET_KEY_RE.search(key)):
            yield value
        return
    branches = [schema] + [b for k in ("oneOf", "anyOf", "allOf") for b in schema.get(k) or [] if isinstance(b, dict)]
    if isinstance(value, dict):
        for child_key, child in value.items():
            child_schemas = [
                (b.get("properties") or {}).get(child_key) for b in branches if isinstance(b.get("properties"), dict)
            ]
            merged: dict[str, Any] = {}
            for child_schema in child_schemas:
                if isinstance(child_schema, dict):
                    merged = {
                        **child_schema,
                        **merged,
                        "airbyte_secret": bool(merged.get("airbyte_secret") or child_schema.get("airbyte_secret")),
                    }
            yield from _secret_values(child, merged, key=str(child_key))
    elif isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        for child in value:
            yield from _secret_values(child, items or {}, key=key)


def validate_config(config: dict[str, Any], spec: dict[str, Any]) -> None:
    """Checks `config` against the spec's connectionSpecification (JSON schema draft named by its
    `$schema`, Draft 7 by default). Raises ValidationFailed with `fields={"config.<path>": reason}`."""
    schema = spec.get("connectionSpecification") or {}
    if not isinstance(config, dict):
        raise ValidationFailed("The configuration must be an object.", fields={"config": "Must be an object."})
    cls = validators.validator_for(schema, default=validators.Draft7Validator)
    redact = Redactor()
    redact.add_config(config, schema)
    fields: dict[str, str] = {}
    for error in sorted(cls(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            required: list[str] = list(error.validator_value) if isinstance(error.validator_value, list) else []
            missing = [name for name in required if name not in error.instance]
            for name in missing:
                fields.setdefault(".".join(["config", *path, name]), "This field is required.")
            continue
        fields.setdefault(".".join(["config", *path]), redact(_reason(error)))
    if fields:
        raise ValidationFailed("The configuration does not match the connector's specification.", fields=fields)


def _reason(error: ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf"):
        return "Does not match any of the allowed options."
    message = error.message
    if isinstance(error.schema, dict) and error.schema.get("airbyte_secret"):
        message = message.replace(repr(error.instance), "The value")  # never echo a secret back
    return message[:500]


class ConnectorRunner:
    """Runs one connector env. One call at a time per instance; `cancel()` may come from any thread."""

    def __init__(self, env: ConnectorEnv, *, extra_env: dict[str, str] | None = None) -> None:
        self.env = env
        self._extra_env = extra_env or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped: str | None = None  # "timeout" | "cancel" | "protocol"

    # ---- the four commands ---------------------------------------------------------------------

    def spec(
        self, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, on_log: LogCallback = _ignore_log
    ) -> dict[str, Any]:
        cache = self.env.path / SPEC_CACHE
        with contextlib.suppress(OSError, orjson.JSONDecodeError):
            cached = orjson.loads(cache.read_bytes())
            if isinstance(cached, dict):
                return cached
        found: dict[str, Any] | None = None
        for message in self._messages(["spec"], {}, redactor=Redactor(), timeout=timeout_seconds, on_log=on_log):
            if isinstance(message, Other) and message.type == "SPEC":
                found = message.raw.get("spec")
        if not isinstance(found, dict):
            raise ConnectorFailed("The connector did not return its specification.")
        partial = cache.with_name(f".{SPEC_CACHE}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(orjson.dumps(found))
        os.replace(partial, cache)
        return found

    def check(
        self,
        config: dict[str, Any],
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        on_log: LogCallback = _ignore_log,
    ) -> tuple[bool, str]:
        """(True, message) when the connector can connect; (False, its reason) otherwise."""
        redactor = self._prepare(config, on_log=on_log)
        status: dict[str, Any] | None = None
        error: str | None = None
        try:
            for message in self._messages(
                ["check", "--config", "{config}"],
                {"config": config},
                redactor=redactor,
                timeout=timeout_seconds,
                on_log=on_log,
            ):
                if isinstance(message, Other) and message.type == "CONNECTION_STATUS":
                    status = message.raw.get("connectionStatus") or {}
        except ConnectorFailed as exc:
            if isinstance(exc, ConnectorTimeout | ConnectorCancelled) or exc.detail == MALFORMED_LINE:
                raise
            error = exc.detail
        if status is not None:
            ok = status.get("status") == "SUCCEEDED"
            return ok, redactor(str(status.get("message") or ("Connected." if ok else "The check failed.")))
        if error is not None:
            return False, error
        raise ConnectorFailed("The connector did not report a connection status.")

    def discover(
        self,
        config: dict[str, Any],
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        on_log: LogCallback = _ignore_log,
    ) -> list[dict[str, Any]]:
        """The streams of the connector's CATALOG."""
        redactor = self._prepare(config, on_log=on_log)
        streams: list[dict[str, Any]] | None = None
        for message in self._messages(
            ["discover", "--config", "{config}"],
            {"config": config},
            redactor=redactor,
            timeout=timeout_seconds,
            on_log=on_log,
        ):
            if isinstance(message, Other) and message.type == "CATALOG":
                streams = list((message.raw.get("catalog") or {}).get("streams") or [])
        if streams is None:
            raise ConnectorFailed("The connector did not return a catalog.")
        return streams

    def read(
        self,
        config: dict[str, Any],
        configured_catalog: list[ConfiguredStream],
        state: dict[str, Any] | list[Any] | None,
        *,
        timeout_seconds: float,
        on_log: LogCallback,
        raw_records: bool = False,
    ) -> Iterator[Message]:
        """Yields every message the connector sends (Log messages arrive redacted and were also given
        to `on_log`; with `raw_records`, RECORD lines in the CDKs' layout arrive unparsed, runs of
        one stream's lines as RawRecords, for the loader to parse by the batch). Raises
        ConnectorFailed after the process ends if it reported a TRACE error, broke the protocol or
        exited non-zero; ConnectorTimeout / ConnectorCancelled when stopped."""
        redactor = self._prepare(config, on_log=on_log)
        files: dict[str, Any] = {
            "config": config,
            "catalog": {"streams": [s.configured_airbyte_stream() for s in configured_catalog]},
        }
        args = ["read", "--config", "{config}", "--catalog", "{catalog}"]
        if state:
            files["state"] = state
            args += ["--state", "{state}"]
        yield from self._messages(
            args, files, redactor=redactor, timeout=timeout_seconds, on_log=on_log, raw_records=raw_records
        )

    def cancel(self) -> None:
        """Kill the running connector's process group (from any thread). The call in progress raises
        ConnectorCancelled."""
        self._stop("cancel")

    # ---- internals ------------------------------------------------------------------------------

    def _prepare(self, config: dict[str, Any], *, on_log: LogCallback) -> Redactor:
        spec = self.spec(on_log=on_log)
        validate_config(config, spec)
        redactor = Redactor()
        redactor.add_config(config, spec.get("connectionSpecification") or {})
        return redactor

    def _stop(self, reason: str) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or self._stopped:
                return
            self._stopped = reason
        threading.Thread(target=_kill_group, args=(proc,), daemon=True).start()

    def _environment(self, private: Path) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k in _ENV_PASSTHROUGH}
        environment.update(
            {
                "TMPDIR": str(private),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "DO_NOT_TRACK": "1",
                "AIRBYTE_OFFLINE_MODE": "true",
                "VIRTUAL_ENV": str(self.env.path),
            }
        )
        environment["PATH"] = f"{self.env.path / 'bin'}{os.pathsep}{environment.get('PATH', '/usr/bin:/bin')}"
        environment.update(self._extra_env)
        return environment

    def _messages(
        self,
        args: list[str],
        files: dict[str, Any],
        *,
        redactor: Redactor,
        timeout: float,
        on_log: LogCallback,
        raw_records: bool = False,
    ) -> Iterator[Message]:
        log_lock = threading.Lock()

        def log(level: str, text: str) -> None:
            text = redactor(text)
            if len(text) > _MAX_LOG_CHARS:
                text = text[:_MAX_LOG_CHARS] + f"… ({len(text) - _MAX_LOG_CHARS} more characters)"
            with log_lock:
                on_log(level, text)

        private = Path(tempfile.mkdtemp(prefix="dalgo-connector-"))
        os.chmod(private, 0o700)
        stderr_tail: deque[str] = deque(maxlen=30)
        first_error: Trace | None = None
        malformed = False
        try:
            argv = list(self.env.command)
            for arg in args:
                if arg.startswith("{") and arg.endswith("}"):
                    name = arg[1:-1]
                    target = private / f"{name}.json"
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(orjson.dumps(files[name]))
                    arg = str(target)
                argv.append(arg)
            with self._lock:
                self._stopped = None
                self._proc = proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=private,
                    env=self._environment(private),
                    start_new_session=True,
                )
            assert proc.stdout is not None and proc.stderr is not None
            stderr_thread = threading.Thread(target=_pump_stderr, args=(proc.stderr, log, stderr_tail), daemon=True)
            stderr_thread.start()
            timer = threading.Timer(timeout, self._stop, args=("timeout",))
            timer.daemon = True
            timer.start()
            try:
                for line in frames(_chunks(proc.stdout), route_records=raw_records):
                    if isinstance(line, RawRecords):
                        yield line
                        continue
                    if not line.strip():
                        continue
                    message = parse_message(line)
                    if message is None:
                        log("ERROR", f"{MALFORMED_LINE}: {_printable(line)[:1000]}")
                        malformed = True
                        self._stop("protocol")
                        break
                    if isinstance(message, Log):
                        log(message.level, message.message)
                        message = Log(level=message.level, message=redactor(message.message))
                    elif isinstance(message, Trace) and message.type == "ERROR":
                        error = message.raw.get("error") or {}
                        log("ERROR", f"{error.get('message') or ''} {error.get('internal_message') or ''}".strip())
                        if error.get("stack_trace"):
                            log("DEBUG", str(error["stack_trace"]))
                        first_error = first_error or message
                    elif isinstance(message, ControlConfig):
                        redactor.add_config(message.config, None)
                        log("INFO", "The connector updated its configuration.")
                    yield message
            finally:
                timer.cancel()
                if proc.poll() is None and not self._stopped:
                    # The consumer stopped early (generator closed) or reading failed: stop the connector.
                    self._stop("closed")
                returncode = _wait(proc)
                stderr_thread.join(timeout=5)
                _kill_leftovers(proc.pid)
                proc.stdout.close()
                proc.stderr.close()
                with self._lock:
                    self._proc = None
        finally:
            shutil.rmtree(private, ignore_errors=True)

        tail = "\n".join(stderr_tail)
        if self._stopped == "timeout":
            raise ConnectorTimeout(f"The connector did not finish within {timeout:g} s and was stopped.")
        if self._stopped == "cancel":
            raise ConnectorCancelled("The connector run was cancelled.")
        if malformed:
            raise ConnectorFailed(MALFORMED_LINE, stderr_tail=tail)
        if first_error is not None:
            error = first_error.raw.get("error") or {}
            raise ConnectorFailed(
                redactor(str(error.get("message") or "The connector reported an error.")),
                internal_message=redactor(str(error.get("internal_message") or "")),
                stderr_tail=tail,
            )
        if returncode != 0:
            last = "\n".join(list(stderr_tail)[-10:])
            detail = f"The connector exited with code {returncode}."
            raise ConnectorFailed(f"{detail}\n{last}" if last else detail, stderr_tail=tail)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """What the pipe holds, as it arrives (up to 1 MB a read), until end of file."""
    fd = stream.fileno()
    while chunk := os.read(fd, _READ_SIZE):
        yield chunk


def _printable(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r\n")


def _pump_stderr(stream: IO[bytes], log: LogCallback, tail: deque[str]) -> None:
    for line in stream:
        text = _printable(line)
        if text.strip():
            log("STDERR", text)
            tail.append(text[:2000])


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it after a grace period."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _kill_leftovers(pgid: int) -> None:
    """Anything the connector left running in its group (the leader is reaped; the id stays reserved
    while members live)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _wait(proc: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return proc.wait(timeout=KILL_GRACE_SECONDS * 4)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
