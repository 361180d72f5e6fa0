"""The access log: exactly one JSON line per request on the ``pod_server.access`` logger.

Each line carries ``id`` (the request id), ``method``, ``path``, ``status``, ``duration_ms``,
``bytes`` (body bytes sent, ``null`` when streamed with unknown length) and ``pid`` (the worker).
``duration_ms`` runs until the response is ready; a streamed body may still be on its way.

What is never logged: the query string (it may carry ``access_token=...``), and any header
(``Authorization``, ``DPoP``, ``Cookie``...). Only the fields above are written; there is no
"log the headers" mode to switch on by mistake.

Request ids: an incoming ``X-Request-Id`` is kept when it is a short, safe token (so a proxy's id
follows the request through), otherwise a fresh one is made. It is stored in ``flask.g.request_id``
(problem details cite it as ``urn:request:{id}``) and echoed in the ``X-Request-Id`` response header.

Exactly one line: ``after_request`` only records the final status and size on ``g``; the line is
written in ``teardown_request``, which Flask runs once per request even when the view, an error
handler or another ``after_request`` function raised (then the status is logged as 500).
Register this module first in ``create_app`` so that its ``before_request`` runs first (the id
exists for every later hook) and its ``after_request`` runs last (it sees the final response).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any, TextIO

from flask import Flask, Response, g, request

from pod_server.config import Settings

LOGGER_NAME = "pod_server.access"
REQUEST_ID_HEADER = "X-Request-Id"

# Letters, digits and a few separators, at most 64 characters: safe in a log line and a header.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

log = logging.getLogger(LOGGER_NAME)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the moment of writing (test capture swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def request_id_from(header: str | None) -> str:
    """Keep a caller's id when it is a short safe token, else make one."""
    if header and _SAFE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def body_bytes(response: Response) -> int | None:
    """Body bytes this response sends; ``None`` for a stream of unknown length (never buffered here)."""
    if request.method == "HEAD" or response.status_code in (204, 304) or response.status_code < 200:
        return 0
    if response.content_length is not None:
        return response.content_length
    if response.is_sequence:
        return sum(len(chunk) for chunk in response.response)
    return None


def _start() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.access_start = time.perf_counter()


def _tag(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id_from(None)
    return response


def _record(response: Response) -> Response:
    g.access_status = response.status_code
    g.access_bytes = body_bytes(response)
    return response


def _write(exc: BaseException | None) -> None:
    start = g.get("access_start")
    status = g.get("access_status")
    line = {
        "id": g.get("request_id") or request_id_from(None),
        "method": request.method,
        "path": request.path,  # never request.full_path or request.url: the query may hold tokens
        "status": 500 if status is None or exc is not None else status,
        "duration_ms": round((time.perf_counter() - start) * 1000, 3) if start is not None else None,
        "bytes": g.get("access_bytes") if status is not None else None,
        "pid": os.getpid(),
    }
    log.info(json.dumps(line, separators=(",", ":"), ensure_ascii=False))


def init_app(app: Flask, settings: Settings) -> None:
    """Give every request an id; when ``settings.access_log`` is on, log one line per request."""
    app.before_request(_start)
    app.after_request(_tag)
    if not settings.access_log:
        return
    app.after_request(_record)
    log.setLevel(settings.log_level.upper())
    if not log.hasHandlers():
        # Nobody configured logging (plain gunicorn): write the bare JSON lines to stderr, and do
        # not also propagate them to handlers configured later on the root logger.
        log.addHandler(_StderrHandler())
        log.propagate = False
    app.teardown_request(_write)


__all__ = ["LOGGER_NAME", "REQUEST_ID_HEADER", "body_bytes", "init_app", "request_id_from"]
