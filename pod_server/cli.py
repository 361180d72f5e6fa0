"""The ``pod-server`` command: ``serve`` and the operator commands.

Every command takes the same settings flags as ``serve`` (and the matching ``POD_SERVER_*``
variables), so operator commands work on the same data folder and database as a running server.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pod_server.config import BACKENDS, LOG_LEVELS, ConfigError, Settings, from_env


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
def serve(workers: int | None, threads: int, dev: bool, **flags: Any) -> None:
    """Serve pods over HTTP (default http://localhost:3000/ with ./data)."""
    settings = load_settings(**flags)
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
    if workers is None:
        workers = 1 if settings.backend == "memory" else 2
    if settings.backend == "memory" and workers > 1:
        raise click.UsageError("the memory backend lives in one process: use --workers 1")
    run(settings, workers=workers, threads=threads)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(__file__))
