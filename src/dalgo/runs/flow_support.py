"""What every Prefect flow of ours needs: Django set up with the same DALGO_* settings as web, and
the flow's log lines sent to Prefect (from where the UI reads them)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
          "WARNING": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}  # fmt: skip


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dalgo.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def prefect_log() -> Callable[[str, str], None]:
    """A (level, text) callback writing to the current flow run's log."""
    from prefect import get_run_logger

    logger = get_run_logger()

    def log(level: str, text: str) -> None:
        logger.log(LEVELS.get(level.upper(), logging.INFO), "%s", text)

    return log
