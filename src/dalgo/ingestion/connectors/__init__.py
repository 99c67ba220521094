"""Connectors: the PyPI catalogue, the per-version virtualenv installer and the protocol runner.

env = connector_env("airbyte-source-faker", "7.2.1")      # installs on first use
runner = ConnectorRunner(env)
runner.spec(); runner.check(config); runner.discover(config)
for message in runner.read(config, streams, state, timeout_seconds=3600, on_log=log): ...
"""

from dalgo.ingestion.connectors.catalog import CatalogEntry, catalog_entry, catalog_list
from dalgo.ingestion.connectors.errors import (
    ConnectorCancelled,
    ConnectorFailed,
    ConnectorInstallFailed,
    ConnectorTimeout,
)
from dalgo.ingestion.connectors.install import ConnectorEnv, connector_env, connector_env_custom
from dalgo.ingestion.connectors.runner import MALFORMED_LINE, ConnectorRunner, Redactor, validate_config

__all__ = [
    "MALFORMED_LINE",
    "CatalogEntry",
    "ConnectorCancelled",
    "ConnectorEnv",
    "ConnectorFailed",
    "ConnectorInstallFailed",
    "ConnectorRunner",
    "ConnectorTimeout",
    "Redactor",
    "catalog_entry",
    "catalog_list",
    "connector_env",
    "connector_env_custom",
    "validate_config",
]
