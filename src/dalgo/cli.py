"""The `dalgo` command: run the platform (`up`, `demo`) and administer it.

Django settings are imported when a command runs, never when this module is imported, so
`dalgo --help` is instant and `dalgo up` can pin the environment its children share first.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

# `--only` accepts components and these groups.
GROUPS: dict[str, tuple[str, ...]] = {
    "celery": ("celery-worker", "celery-beat"),
    "prefect": ("prefect-server", "prefect-worker"),
}


def _django_setup() -> None:
    import logging

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dalgo.settings")
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per HTTP call otherwise


def _domain_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show domain errors as one-line CLI errors (exit 1), not tracebacks."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dalgo.core.errors import DalgoError

        try:
            return fn(*args, **kwargs)
        except DalgoError as exc:
            details = "".join(
                f"\n  {field}: {message}" for field, message in exc.fields.items() if message != exc.detail
            )
            raise click.ClickException(f"{exc.detail}{details}") from None

    return wrapper


def _parse_only(value: str | None) -> set[str] | None:
    from dalgo.supervisor import COMPONENT_NAMES

    if not value:
        return None
    chosen: set[str] = set()
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item in GROUPS:
            chosen.update(GROUPS[item])
        elif item in COMPONENT_NAMES:
            chosen.add(item)
        else:
            names = ", ".join([*COMPONENT_NAMES, *GROUPS])
            raise click.BadParameter(f"unknown component {item!r}: choose from {names}", param_hint="--only")
    return chosen


def _prepare_web(*, verbose: bool = True) -> None:
    """Migrate the app database and collect static files (web serves them with WhiteNoise)."""
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()


def _web_url() -> str:
    host = os.environ.get("DALGO_WEB_HOST", "127.0.0.1")
    host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - only for display
    return f"http://{host}:{os.environ.get('DALGO_WEB_PORT') or 8000}"


def _up(
    only: set[str] | None, on_ready: Callable[[dict[str, float]], None] | None = None, *, prepared: bool = False
) -> int:
    from pathlib import Path

    from dalgo.supervisor import Supervisor, bytecode_cache_apply, embedded_components, embedded_env

    os.environ.update(embedded_env())
    bytecode_cache_apply(
        os.environ, Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dalgo" / "pycache"
    )
    components = embedded_components(only)
    if not components:
        raise click.UsageError("nothing to run: --only matched no component")
    if not prepared and any(c.name == "web" for c in components):
        click.echo(f"dalgo: preparing the app database in {os.environ['DALGO_DATA_DIR']}")
        _django_setup()
        _prepare_web()
    supervisor = Supervisor(components)

    def ready(timings: dict[str, float]) -> None:
        summary = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
        supervisor.log("dalgo", f"all components up ({summary})")
        if any(c.name == "web" for c in components):
            supervisor.log("dalgo", f"Dalgo is running at {_web_url()}  (Ctrl-C to stop)")
        if on_ready is not None:
            on_ready(timings)

    return supervisor.run(on_ready=ready)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Dalgo: open-source data platform for NGOs."""


@main.command()
@click.option(
    "--only",
    "only",
    metavar="COMPONENTS",
    help="Comma-separated components to run: web, celery (celery-worker, celery-beat), orchestrator, "
    "prefect (prefect-server, prefect-worker). Default: all.",
)
def up(only: str | None) -> None:
    """Run every Dalgo process in the foreground (Ctrl-C stops them all).

    Embedded mode by default: SQLite app DB, file broker and cache, a local Prefect server, all under
    DALGO_DATA_DIR (./.dalgo). Set DALGO_DATABASE_URL, DALGO_REDIS_URL, DALGO_PREFECT_API_URL to use
    external services; a non-local DALGO_PREFECT_API_URL starts no Prefect server.
    """
    sys.exit(_up(_parse_only(only)))


@main.command()
@click.option("--only", "only", metavar="COMPONENTS", help="As for `dalgo up`.")
@_domain_errors
def demo(only: str | None) -> None:
    """Migrate, seed a demo organisation with demo users, and run everything."""
    from dalgo.supervisor import embedded_env

    os.environ.update(embedded_env())
    _django_setup()
    from django.db import connections

    _prepare_web()
    from dalgo.demo import demo_seed

    logins = demo_seed()
    connections.close_all()

    def print_logins(_: dict[str, float] | None = None) -> None:
        click.echo("")
        click.echo(f"Dalgo demo at {_web_url()}: log in as")
        width = max((len(email) for email, _, _ in logins), default=0)
        for email, password, role in logins:
            click.echo(f"  {role:<12} {email:<{width}}  password: {password}")
        click.echo("")

    def ready(timings: dict[str, float] | None = None) -> None:
        print_logins(timings)
        threading.Thread(target=_demo_ingest, name="demo-ingest", daemon=True).start()

    print_logins()
    sys.exit(_up(_parse_only(only), on_ready=ready, prepared=True))


def _demo_ingest() -> None:
    """Once the platform is up: the demo's sources, connections and first syncs (in the background,
    so the URL is usable at once; syncs show their progress in Ingest)."""
    from django.db import connections

    from dalgo.core.errors import DalgoError
    from dalgo.demo import demo_ingest

    try:
        demo_ingest(log=click.echo)
    except DalgoError as exc:
        click.echo(f"Demo: the sample data could not be synced: {exc.detail}", err=True)
    finally:
        connections.close_all()


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def createsuperuser(args: tuple[str, ...]) -> None:
    """Create a platform superuser (Django's createsuperuser; pass its options through)."""
    _django_setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dalgo", "createsuperuser", *args])


@main.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.argument("name")
@click.option("--owner", "owner_email", required=True, help="Email of an existing user: becomes super-admin.")
@_domain_errors
def org_create_command(name: str, owner_email: str) -> None:
    """Create an organisation owned by an existing user."""
    _django_setup()
    from dalgo.accounts.models import User
    from dalgo.accounts.services import email_normalize
    from dalgo.orgs.services import org_create

    email = email_normalize(email=owner_email)
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        raise click.ClickException(f"No user {email}: create one first (`dalgo createsuperuser`, or sign up).")
    created = org_create(name=name, creator=owner)
    click.echo(f"Created organisation {created.name!r} (slug {created.slug}) owned by {owner.email}")


@main.group()
def user() -> None:
    """Users and invitations."""


@user.command("invite")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation.")
@click.option("--role", default="member", show_default=True, help="member, analyst, admin or super-admin.")
@_domain_errors
def user_invite(email: str, org_slug: str, role: str) -> None:
    """Invite EMAIL to an organisation (sent in the name of its first super-admin)."""
    _django_setup()
    from dalgo.orgs.models import Membership, Org
    from dalgo.orgs.roles import Role
    from dalgo.orgs.services import invitation_create

    found = Org.objects.filter(slug=org_slug).first()
    if found is None:
        raise click.ClickException(f"No organisation with slug {org_slug!r}.")
    owner = Membership.objects.for_org(found).filter(role=Role.SUPER_ADMIN).select_related("user").first()
    if owner is None:
        raise click.ClickException(f"{found.name} has no super-admin to send the invitation from.")
    invitation = invitation_create(org=found, actor=owner.user, actor_role=owner.role, email=email, role=role)
    click.echo(
        f"Invited {invitation.email} to {found.name} as {invitation.role} (from {owner.user.email}); "
        f"the email goes out through the Celery worker."
    )


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored secret with the newest DALGO_FERNET_KEYS key (put it first, keep the
    old ones after it until this has run, then retire them)."""
    _django_setup()
    from dalgo.core.crypto import secrets_rotate_all

    click.echo(f"Re-encrypted {secrets_rotate_all()} record(s) with the newest key.")


@main.command()
def health() -> None:
    """Print the health of every component; exit 1 unless all are ok."""
    _django_setup()
    from dalgo.system.health import components_health, overall_status

    components = components_health()
    width = max(len(c["name"]) for c in components)
    for component in components:
        status = component["status"]
        colour = "green" if status == "ok" else ("yellow" if status == "unknown" else "red")
        latency = component.get("latency_ms")
        latency_text = f"{latency:>8.1f} ms" if isinstance(latency, int | float) else " " * 11
        message = component.get("message") or ""
        click.echo(f"{component['name']:<{width}}  {click.style(f'{status:<7}', fg=colour)} {latency_text}  {message}")
    overall = overall_status(components)
    click.echo(f"overall: {overall}")
    sys.exit(0 if overall == "ok" else 1)


if __name__ == "__main__":
    main()
