"""Prometheus metrics, served at ``GET /.well-known/pod-server/metrics`` when the operator asks.

Off by default (the path answers 404). When ``settings.metrics`` is on, the endpoint requires
``Authorization: Bearer <settings.metrics_token>`` if a token is set (401 otherwise); without a
token it answers only direct requests from a loopback address (403 otherwise, and also 403 for
requests that came through a proxy, since a proxy on the same host would make every caller look
local).

What is measured, per worker process and summed over the workers:

- ``pod_server_http_requests_total{method,status}``: requests by method and status class (``2xx``);
- ``pod_server_http_request_duration_seconds{method}``: latency histogram;
- ``pod_server_http_requests_in_flight``: requests being handled now;
- ``pod_server_http_response_bytes_total{method}``: body bytes sent (when the length is known).

Several gunicorn workers: prometheus-client's multiprocess mode keeps each process's values in
memory-mapped files in ``settings.multiprocess_metrics_dir`` (``POD_SERVER_METRICS_DIR``, by default
``{data_dir}/metrics`` unless the backend is ``memory``) and sums them when scraped. Ordering
matters: prometheus-client picks its value class from ``PROMETHEUS_MULTIPROC_DIR`` when
``prometheus_client.values`` is first imported, so :func:`init_app` sets that variable *before* it
imports prometheus-client (nothing in pod-server imports it at module level). Should a library have
imported it earlier, :func:`_enable_multiprocess` switches the value class explicitly, as the import
would have. The gunicorn master wipes the folder before starting workers and calls
:func:`mark_process_dead` when a worker exits (see ``pod_server/gunicorn.py``); a worker started by
plain ``gunicorn wsgi:app`` also cleans up after workers that are gone (:func:`_clean_dead`).

The Flask glue is kept to :func:`init_app` and the view; :class:`Metrics` itself is plain Python.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, g, request

from pod_server.config import Settings
from pod_server.errors import Forbidden, MethodNotAllowed, NotFound, StorageError, Unauthorized
from pod_server.http.access_log import body_bytes

PATH = "/.well-known/pod-server/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_METHODS_LIST = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
_METHODS = frozenset(_METHODS_LIST)
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")
_DB_FILE = re.compile(r"[a-z]+(?:_[a-z]+)?_(\d+)\.db")


def _enable_multiprocess(directory: Path) -> None:
    """Point prometheus-client at ``directory``; must run before the first metric is created."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the metrics folder {directory}: {exc.strerror}") from None
    os.environ[MULTIPROC_ENV] = str(directory)
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_dead(directory: Path) -> None:
    """Drop the live gauges of processes that no longer exist (counters of dead workers stay summed)."""
    pids: set[int] = set()
    for file in directory.glob("*.db"):
        found = _DB_FILE.fullmatch(file.name)
        if found:
            pids.add(int(found.group(1)))
    for pid in pids:
        if not _pid_alive(pid):
            mark_process_dead(pid, directory)


def mark_process_dead(pid: int, directory: Path) -> None:
    """A worker exited: its in-flight gauge no longer counts. Called from the gunicorn master."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def wipe(directory: Path) -> None:
    """Remove every per-process file: run once by the gunicorn master before workers start."""
    for file in directory.glob("*.db"):
        file.unlink(missing_ok=True)


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


@dataclass
class Metrics:
    """The request metrics of one app. ``directory`` switches on multiprocess mode."""

    directory: Path | None = None

    def __post_init__(self) -> None:
        if self.directory is not None:
            _enable_multiprocess(self.directory)
            _clean_dead(self.directory)
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        # One registry per app (tests build many apps in one process). In multiprocess mode the
        # values live in the files; the metrics are registered nowhere and scraping reads the files.
        self._registry = CollectorRegistry()
        own = None if self.directory is not None else self._registry
        self.requests = Counter(
            "pod_server_http_requests",
            "HTTP requests handled, by method and status class.",
            ["method", "status"],
            registry=own,
        )
        self.duration = Histogram(
            "pod_server_http_request_duration_seconds",
            "Time from the start of a request to its response, by method.",
            ["method"],
            buckets=_BUCKETS,
            registry=own,
        )
        self.in_flight = Gauge(
            "pod_server_http_requests_in_flight",
            "Requests being handled right now.",
            registry=own,
            multiprocess_mode="livesum",
        )
        self.bytes_out = Counter(
            "pod_server_http_response_bytes",
            "Response body bytes sent, by method (responses of unknown length are not counted).",
            ["method"],
            registry=own,
        )
        self.proofs_without_ath = Counter(
            "pod_server_dpop_proofs_without_ath",
            "DPoP proofs accepted without the ath claim RFC 9449 wants (refused with --strict-dpop).",
            registry=own,
        )
        if self.directory is not None:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self._registry, path=str(self.directory))  # type: ignore[no-untyped-call]
        else:
            from prometheus_client import ProcessCollector

            # One process: its CPU, memory and open files are cheap and useful (Linux only).
            ProcessCollector(registry=self._registry)

    def started(self) -> None:
        self.in_flight.inc()

    def finished(self, method: str, status: int, seconds: float, body_bytes: int | None) -> None:
        label = method if method in _METHODS else "OTHER"
        self.in_flight.dec()
        self.requests.labels(label, status_class(status)).inc()
        self.duration.labels(label).observe(seconds)
        if body_bytes:
            self.bytes_out.labels(label).inc(body_bytes)

    def proof_without_ath(self) -> None:
        self.proofs_without_ath.inc()

    def render(self) -> tuple[bytes, str]:
        """The current values in the Prometheus text format, and its media type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self._registry), CONTENT_TYPE_LATEST


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _authorize(token: str | None) -> None:
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # RFC 6750 §2.1: Authorization: Bearer <token>. compare_digest: no timing hints.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthorized(
                "send Authorization: Bearer <token> with the metrics token (POD_SERVER_METRICS_TOKEN)",
                headers={"WWW-Authenticate": 'Bearer realm="pod-server metrics"'},
            )
        return
    if not _is_loopback(request.remote_addr) or any(h in request.headers for h in _PROXY_HEADERS):
        raise Forbidden(
            "metrics are served only to direct requests from this machine; "
            "set POD_SERVER_METRICS_TOKEN to scrape them from elsewhere"
        )


def init_app(app: Flask, settings: Settings) -> None:
    """Register the metrics endpoint (404 unless ``settings.metrics``) and, if on, measure requests."""
    if not settings.metrics:
        # Registered for every method so the path is never handed to the LDP routes (in provider
        # mode they would take /.well-known/ for a pod and let a client write this path).
        @app.route(PATH, methods=_METHODS_LIST, endpoint="pod_server_metrics")
        def metrics_off() -> Response:
            raise NotFound(f"{PATH} does not exist: metrics are off (POD_SERVER_METRICS=1 turns them on)")

        return

    metrics = Metrics(settings.multiprocess_metrics_dir)
    token = settings.metrics_token.reveal() if settings.metrics_token else None
    app.extensions["pod_server.http.metrics"] = metrics

    def start() -> None:
        g.metrics_start = time.perf_counter()
        metrics.started()

    def record(response: Response) -> Response:
        g.metrics_status = response.status_code
        g.metrics_bytes = body_bytes(response)
        return response

    def finish(exc: BaseException | None) -> None:
        start_time = g.get("metrics_start")
        if start_time is None:  # an earlier before_request failed: nothing was counted in flight
            return
        status = g.get("metrics_status")
        metrics.finished(
            request.method,
            500 if status is None or exc is not None else status,
            time.perf_counter() - start_time,
            g.get("metrics_bytes"),
        )

    app.before_request(start)
    app.after_request(record)
    app.teardown_request(finish)

    @app.route(PATH, methods=_METHODS_LIST, endpoint="pod_server_metrics")
    def metrics_view() -> Response:
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed("metrics are read-only: use GET", allow=("GET", "HEAD"))
        _authorize(token)
        body, content_type = metrics.render()
        response = Response(body, content_type=content_type)
        response.headers["Cache-Control"] = "no-store"
        return response


__all__ = ["MULTIPROC_ENV", "PATH", "Metrics", "init_app", "mark_process_dead", "status_class", "wipe"]
