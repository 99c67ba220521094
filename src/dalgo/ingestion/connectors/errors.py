"""Domain errors of the connector layer (installer and protocol runner)."""

from __future__ import annotations

from dalgo.core.errors import DalgoError


class ConnectorInstallFailed(DalgoError):
    status = 400
    code = "connector_install_failed"

    def __init__(self, detail: str, *, stderr_tail: str = "") -> None:
        super().__init__(detail)
        self.stderr_tail = stderr_tail


class ConnectorFailed(DalgoError):
    """The connector reported an error (TRACE ERROR), crashed, or broke the protocol."""

    status = 400
    code = "connector_failed"

    def __init__(self, detail: str, *, internal_message: str = "", stderr_tail: str = "") -> None:
        super().__init__(detail)
        self.internal_message = internal_message
        self.stderr_tail = stderr_tail


class ConnectorTimeout(ConnectorFailed):
    code = "connector_timeout"


class ConnectorCancelled(ConnectorFailed):
    code = "connector_cancelled"
