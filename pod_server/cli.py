"""The ``pod-server`` command: ``serve`` and the operator commands.

Every command takes the same settings flags as ``serve`` (and the matching ``POD_SERVER_*``
variables), so operator commands work on the same data folder and database as a running server.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pod_server.config import BACKENDS, LOG_LEVELS, ConfigError, Secret, Settings, from_env
from pod_server.errors import PodError

if TYPE_CHECKING:
    from flask import Flask

    from pod_server.accounts.service import SqlAccountDirectory


def settings_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The flags shared by every command; each falls back to its POD_SERVER_* variable."""
    options = [
        click.option("--base-url", help="Public URL of the server [POD_SERVER_BASE_URL]."),
        click.option("--host", help="Interface to listen on (default 127.0.0.1) [POD_SERVER_HOST]."),
        click.option("--port", type=int, help="Port to listen on (default 3000) [POD_SERVER_PORT]."),
        click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder (default ./data)."),
        click.option("--backend", type=click.Choice(BACKENDS), help="Storage backend (default filesystem)."),
        click.option("--database-url", help="SQLAlchemy URL (default SQLite in the data folder)."),
        click.option(
            "--single-pod/--provider",
            "single_pod",
            default=None,
            help="Serve one person's pod at the root, or pods at /{name}/ (default) [POD_SERVER_SINGLE_POD].",
        ),
        click.option(
            "--subdomains/--no-subdomains",
            default=None,
            help="Provider mode: pods at {name}.host behind a wildcard [POD_SERVER_SUBDOMAINS].",
        ),
        click.option(
            "--log-level",
            type=click.Choice(LOG_LEVELS, case_sensitive=False),
            help="Level of the server's logs (default INFO) [POD_SERVER_LOG_LEVEL].",
        ),
        click.option(
            "--metrics/--no-metrics",
            default=None,
            help="Serve Prometheus metrics at /.well-known/pod-server/metrics (default off) "
            "[POD_SERVER_METRICS].",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def load_settings(**flags: Any) -> Settings:
    try:
        return from_env(**flags)
    except ConfigError as exc:
        raise click.UsageError(exc.detail) from None


@click.group()
@click.version_option(package_name="pod-server")
def main() -> None:
    """pod-server: a Solid pod server for commons-based peer-production communities."""


@main.command()
@settings_options
@click.option(
    "--workers", type=int, default=None, help="Worker processes (default 2; 1 for --backend memory)."
)
@click.option("--threads", type=int, default=8, show_default=True, help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Use Flask's development server (reloads nothing; one process).")
@click.option("--seed-email", help="At first start, create this owner account [POD_SERVER_SEED_EMAIL].")
@click.option(
    "--seed-password",
    help="The seeded owner's password; prefer the variable [POD_SERVER_SEED_PASSWORD].",
)
@click.option(
    "--strict-dpop/--no-strict-dpop",
    default=None,
    help="Refuse DPoP proofs without ath, the access token's hash (default off) [POD_SERVER_STRICT_DPOP].",
)
@click.option(
    "--allow-bearer/--no-allow-bearer",
    default=None,
    help="Accept unbound Bearer access tokens (default off) [POD_SERVER_ALLOW_BEARER].",
)
def serve(
    workers: int | None,
    threads: int,
    dev: bool,
    seed_email: str | None,
    seed_password: str | None,
    **flags: Any,
) -> None:
    """Serve pods over HTTP (default http://localhost:3000/ with ./data)."""
    settings = load_settings(
        **flags, seed_email=seed_email, seed_password=Secret(seed_password) if seed_password else None
    )
    from pod_server import create_app

    # Build the app once here, before any worker starts: bad settings fail fast with one message,
    # and the backend runs its migrations or crash recovery once instead of racing in each worker.
    app = create_app(settings)
    click.echo(
        f"pod-server serving {settings.base_url} (backend {settings.backend}, data {settings.data_dir})"
    )
    if dev:
        app.run(host=settings.host, port=settings.port, threaded=True)
        return
    from pod_server.gunicorn import run

    app.extensions["pod_server.store"].backend.close()  # each worker opens its own
    app.extensions["pod_server.db"].close()
    if workers is None:
        workers = 1 if settings.backend == "memory" else 2
    if settings.backend == "memory" and workers > 1:
        raise click.UsageError("the memory backend lives in one process: use --workers 1")
    run(settings, workers=workers, threads=threads)


# -- operator commands: accounts, pods, client credentials ----------------------------------------
# Each opens the same data folder and database as a running server (same flags and variables).


@contextmanager
def _operator_app(settings: Settings) -> Iterator[Flask]:
    """The app over the configured storage and database, closed afterwards; errors become clear exits."""
    if settings.backend == "memory":
        raise click.UsageError("the memory backend lives inside the server process: use filesystem or sql")
    from pod_server import create_app

    try:
        app = create_app(settings)
    except PodError as exc:
        raise click.ClickException(exc.detail) from None
    try:
        yield app
    except PodError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        app.extensions["pod_server.store"].backend.close()
        app.extensions["pod_server.db"].close()


@contextmanager
def _accounts(flags: dict[str, Any]) -> Iterator[SqlAccountDirectory]:
    """The account directory over the configured storage and database; errors become clear exits."""
    with _operator_app(load_settings(**flags)) as app:
        yield app.extensions["pod_server.accounts"]


def _emit(as_json: bool, payload: dict[str, Any] | list[dict[str, Any]], text: str) -> None:
    click.echo(json.dumps(payload, indent=2) if as_json else text)


_json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


@main.group()
def account() -> None:
    """Create, list and delete accounts."""


@account.command("create")
@settings_options
@click.option("--email", required=True, help="The account's email address (its login).")
@click.option("--password", help="The password (asked for, hidden, when omitted).")
@click.option("--pod", "pod_name", help="Also create a pod with this name (single-pod mode: the root pod).")
@click.option("--credentials", is_flag=True, help="Also create a client credential for the pod's WebID.")
@_json_option
def account_create(
    email: str, password: str | None, pod_name: str | None, credentials: bool, as_json: bool, **flags: Any
) -> None:
    """Create an account (and optionally its first pod and a client credential)."""
    if credentials and pod_name is None:
        raise click.UsageError("--credentials needs --pod: a client credential is bound to the pod's WebID")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _accounts(flags) as directory:
        created = directory.register(email, password)
        payload: dict[str, Any] = {"id": created.id, "email": created.email}
        try:
            if pod_name is not None:
                pod = directory.create_pod(created.id, pod_name)
                payload |= {"pod": pod.url, "webid": pod.webid}
                if credentials:
                    cred = directory.create_credential(
                        created.id, pod.webid, "created by pod-server account create"
                    )
                    payload |= {"client_id": cred.client_id, "client_secret": cred.client_secret}
                    payload["issuer"] = cred.issuer
        except PodError:
            directory.delete_account(created.id, pods="delete")  # nothing half-made
            raise
        _emit(as_json, payload, "\n".join(f"{k}: {v}" for k, v in payload.items()))


@account.command("list")
@settings_options
@_json_option
def account_list(as_json: bool, **flags: Any) -> None:
    """List the accounts with their pods and WebIDs."""
    with _accounts(flags) as directory:
        rows = [
            {
                "id": a.id,
                "email": a.email,
                "pods": [p.url for p in directory.pods(a.id)],
                "webids": list(a.webids),
            }
            for a in directory.all_accounts()
        ]
        lines = [f"{r['email']}\t{' '.join(r['pods']) or '-'}" for r in rows] or ["no accounts"]
        _emit(as_json, rows, "\n".join(lines))


@account.command("delete")
@settings_options
@click.option("--email", required=True, help="The account to delete.")
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write its pods to this zip first.",
)
@click.option("--delete-pods", is_flag=True, help="Delete its pods without a copy.")
@_json_option
def account_delete(
    email: str, export_path: Path | None, delete_pods: bool, as_json: bool, **flags: Any
) -> None:
    """Delete an account and its pods: exported to a zip first (--export) or not (--delete-pods)."""
    if (export_path is None) == (not delete_pods):
        raise click.UsageError("choose one: --export PATH (keep a zip of the pods) or --delete-pods")
    with _accounts(flags) as directory:
        found = directory.require(email)
        pods = [p.url for p in directory.pods(found.id)]
        if export_path is not None:
            if export_path.exists():
                raise click.ClickException(f"{export_path} already exists; choose a new file name")
            try:
                with export_path.open("xb") as target:
                    directory.delete_account(found.id, pods="export", export_to=target)
            except BaseException:
                export_path.unlink(missing_ok=True)
                raise
        else:
            directory.delete_account(found.id, pods="delete")
        payload: dict[str, Any] = {"deleted": found.email, "pods": pods}
        if export_path is not None:
            payload["export"] = str(export_path)
        _emit(as_json, payload, f"deleted {found.email} and {len(pods)} pod(s)")


@main.group()
def pod() -> None:
    """Create pods."""


@pod.command("create")
@settings_options
@click.option("--account", "email", required=True, help="The email of the account that owns the pod.")
@click.option("--name", default="", help="The pod's name (its path /NAME/; ignored in single-pod mode).")
@_json_option
def pod_create(email: str, name: str, as_json: bool, **flags: Any) -> None:
    """Create a pod with a WebID profile, inbox, type indexes, preferences and access rules."""
    with _accounts(flags) as directory:
        made = directory.create_pod(directory.require(email).id, name)
        _emit(as_json, {"pod": made.url, "webid": made.webid}, f"pod: {made.url}\nwebid: {made.webid}")


@main.group("credentials")
def credentials_group() -> None:
    """Create client credentials for scripts and services."""


@credentials_group.command("create")
@settings_options
@click.option("--account", "email", required=True, help="The email of the account.")
@click.option("--webid", help="One of the account's WebIDs (default: its first).")
@click.option("--name", default="", help="A name to recognise the credential by.")
@_json_option
def credentials_create(email: str, webid: str | None, name: str, as_json: bool, **flags: Any) -> None:
    """Create a client id and secret bound to a WebID (the secret is shown only now)."""
    with _accounts(flags) as directory:
        found = directory.require(email)
        if webid is None:
            if not found.webids:
                raise click.ClickException(f"{email} has no WebID yet: create a pod first")
            webid = found.webids[0]
        made = directory.create_credential(found.id, webid, name)
        payload = {
            "client_id": made.client_id,
            "client_secret": made.client_secret,
            "webid": made.webid,
            "issuer": made.issuer,
        }
        _emit(as_json, payload, "\n".join(f"{k}: {v}" for k, v in payload.items()))


@main.command()
@settings_options
@click.option("--pod", "pod_name", help="Only this pod (its name: /NAME/); default: every pod.")
@_json_option
def reindex(pod_name: str | None, as_json: bool, **flags: Any) -> None:
    """Build the SPARQL query index from storage; print counts and the time taken.

    It reads and parses every RDF document, so it also checks that each one parses. A running
    server does not need it: each worker builds its in-memory index from storage by itself (a
    pod's part on that pod's first query) and keeps it current from changes.
    """
    settings = load_settings(**flags)
    if pod_name is not None and settings.single_pod:
        raise click.UsageError("single-pod mode has one pod, the root: leave out --pod")
    from pod_server.ldp.identifiers import canonical_segment

    with _operator_app(settings) as app:
        root: str | None = None
        if pod_name is not None:
            root = "/" + canonical_segment(pod_name) + "/"
            try:
                app.extensions["pod_server.store"].stat(root)
            except PodError:
                raise click.ClickException(f"there is no pod named {pod_name!r}") from None
        started = time.perf_counter()
        counts = app.extensions["pod_server.query"].index.rebuild(root)
        seconds = round(time.perf_counter() - started, 3)
    payload: dict[str, Any] = {"pod": pod_name or "all", **counts, "seconds": seconds}
    _emit(as_json, payload, "\n".join(f"{k}: {v}" for k, v in payload.items()))
    if counts.get("skipped"):  # documents that do not parse: each is named in the log above
        raise click.ClickException(
            f"{counts['skipped']} RDF document(s) do not parse; see the log lines above"
        )


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(__file__))
