"""Starting the built-in platform-check flow."""

from __future__ import annotations

from dalgo.accounts.models import User
from dalgo.core.audit import audit_record
from dalgo.orgs.models import Org
from dalgo.runs.models import Run
from dalgo.runs.orchestrator_client import DeploymentSpec
from dalgo.runs.services import run_start

PLATFORM_CHECK_KIND = "platform-check"
PLATFORM_CHECK_DEPLOYMENT = "platform-check"
PLATFORM_CHECK_SPEC = DeploymentSpec(
    entrypoint="dalgo.system.flows:platform_check",
    description="Proves web -> orchestrator -> Prefect -> worker -> app DB works end to end.",
    tags=["dalgo", "system"],
)


def platform_check_start(*, org: Org, actor: User) -> Run:
    run = run_start(
        org=org, kind=PLATFORM_CHECK_KIND, deployment=PLATFORM_CHECK_DEPLOYMENT, spec=PLATFORM_CHECK_SPEC, actor=actor
    )
    audit_record(
        action="system.check",
        actor=actor,
        org=org,
        target_type="run",
        target_id=run.id,
        target_label=PLATFORM_CHECK_KIND,
    )
    return run
