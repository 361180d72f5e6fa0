"""Errors as responses: RFC 9457 problem details (``application/problem+json``).

One handler turns the :mod:`pod_server.errors` tree, werkzeug's HTTP exceptions and anything
unexpected into a response. Unexpected errors are logged with the request id and answered with a
generic 500 that leaks nothing.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException

from pod_server.errors import PodError

log = logging.getLogger("pod_server.errors")

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    instance = getattr(g, "request_id", None)
    if instance:
        body["instance"] = f"urn:request:{instance}"
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _pod_error(exc: PodError) -> Response:
    if exc.status >= 500:
        log.error("server error: %s", exc.detail)
    return problem(exc.status, exc.title, exc.detail, exc.headers)


def _http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description or exc.name
    if status == 413:
        detail = "the request body is larger than this server accepts"
    headers = {}
    valid = getattr(exc, "valid_methods", None)
    if status == 405 and valid:
        headers["Allow"] = ", ".join(valid)
    return problem(status, exc.name, detail, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error while handling the request")
    return problem(
        500, "Internal Server Error", "the server failed; the error was logged with this request's id"
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(PodError, _pod_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)


__all__ = ["PROBLEM_TYPE", "init_app", "problem"]
