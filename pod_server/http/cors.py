"""CORS as the Solid Protocol requires (§8.1, "cors-server").

Servers MUST echo the Origin (not ``*``), add ``Vary: Origin``, allow credentials, expose the
headers Solid clients read, and answer preflight requests for every method and requested header.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
EXPOSED_HEADERS = ", ".join(
    [
        "Accept-Patch",
        "Accept-Post",
        "Accept-Put",
        "Accept-Ranges",
        "Allow",
        "Content-Length",
        "Content-Location",
        "Content-Range",
        "Content-Type",
        "ETag",
        "Last-Modified",
        "Link",
        "Location",
        "Preference-Applied",
        "Updates-Via",
        "Vary",
        "WAC-Allow",
        "WWW-Authenticate",
        "X-Request-Id",
    ]
)


def is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight_response() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Max-Age"] = "1728000"
    return response


def add_cors(response: Response) -> Response:
    """The CORS headers of an actual (non-preflight) response, added to ``response``."""
    origin = request.headers.get("Origin")
    vary = {v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    if "Origin" not in vary:
        response.headers["Vary"] = ", ".join([*sorted(vary), "Origin"]) if vary else "Origin"
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_cors)


__all__ = ["EXPOSED_HEADERS", "add_cors", "init_app", "is_preflight", "preflight_response"]
