"""The community endpoints (model §5): JSON in and out, Solid-OIDC exactly as for LDP requests.

- ``POST {base}.communities`` founds a community (:mod:`pod_server.community.founding`);
- ``GET {c}.well-known/community`` answers the roster, to anyone;
- ``POST {c}.well-known/community/<action>`` runs one of :data:`ACTIONS` under the community's
  lock (:meth:`~pod_server.community.service.CommunityService.lock`).

A request reads top to bottom: route -> which community -> who is asking -> the JSON body ->
the action -> the JSON answer. Errors are RFC 9457 problem details (the app's one handler).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from pod_server.access.credentials import Credentials
from pod_server.community import founding, governance, ledger, membership
from pod_server.community.model import Community
from pod_server.community.service import CommunityService
from pod_server.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from pod_server.http import cors, ldp
from pod_server.http.request import raw_path, read_body
from pod_server.ldp.identifiers import WELL_KNOWN

CREATE_ROUTE = ".communities"
"""``POST {base}.communities``: found a community."""
ROUTE = WELL_KNOWN + "community"
"""Inside each community pod."""
JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024

Action = Callable[[CommunityService, Community, Credentials, dict[str, Any]], tuple[int, dict[str, Any]]]
"""``fn(svc, c, credentials, body) -> (status, JSON answer)``; runs under the community's lock."""


ACTIONS: dict[str, Action] = {
    "invite": membership.invite,
    "confirm": membership.confirm,
    "accept": membership.accept,
    "leave": membership.leave,
    "sync": membership.sync,
    "acknowledge": ledger.acknowledge,
    "propose": governance.propose,
    "vote": governance.vote,
    "tally": governance.tally,
}

bp = Blueprint("community", __name__)


@dataclass(frozen=True)
class CommunityServices:
    """What the endpoints need, built once in ``create_app``."""

    service: CommunityService
    accounts: founding.LocalAccounts


def services() -> CommunityServices:
    found: CommunityServices = current_app.extensions["pod_server.community"]
    return found


@bp.route("/" + CREATE_ROUTE, methods=ldp.METHODS)
def create() -> Response:
    s = ldp.services()
    path = s.ids.to_path(request.host, raw_path(request))
    if path != "/" + CREATE_ROUTE:
        return ldp.resource(path)  # {pod}.communities in subdomain mode is an ordinary resource
    if cors.is_preflight():
        return cors.preflight_response()
    _allow(("POST", "OPTIONS"))
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": "POST, OPTIONS"})
    credentials = ldp.credentials(s, s.ids.to_url(path))
    c = services()
    status, answer = founding.create(c.service, c.accounts, credentials, _body())
    response = _json(status, answer)
    response.headers["Location"] = answer["pod"]
    return response


@bp.route("/" + ROUTE, defaults={"_pod": "", "action": None}, methods=ldp.METHODS)
@bp.route("/" + ROUTE + "/<action>", defaults={"_pod": ""}, methods=ldp.METHODS)
@bp.route("/<path:_pod>/" + ROUTE, defaults={"action": None}, methods=ldp.METHODS)
@bp.route("/<path:_pod>/" + ROUTE + "/<action>", methods=ldp.METHODS)
def endpoint(_pod: str, action: str | None) -> Response:
    s = ldp.services()
    path = s.ids.to_path(request.host, raw_path(request))
    root = s.ids.storage_root(path)
    if root is None or path not in {root + ROUTE, f"{root}{ROUTE}/{action}"}:
        return ldp.resource(path)  # deeper down a pod: an ordinary resource
    if cors.is_preflight():
        return cors.preflight_response()
    svc = services().service
    c = svc.find(root)
    if action is None:
        _allow(("GET", "HEAD", "OPTIONS"))
        if request.method == "OPTIONS":
            return Response(status=204, headers={"Allow": "GET, HEAD, OPTIONS"})
        response = _json(200, membership.roster_json(svc, c))
        response.headers["Cache-Control"] = "no-cache"
        return response
    run = ACTIONS.get(action)
    if run is None:
        raise NotFound(f"there is no action {action!r}; the actions are {', '.join(sorted(ACTIONS))}")
    _allow(("POST", "OPTIONS"))
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": "POST, OPTIONS"})
    credentials = ldp.credentials(s, s.ids.to_url(path))
    body = _body()
    with svc.lock(c):
        status, answer = run(svc, c, credentials, body)
    return _json(status, answer)


def _allow(methods: tuple[str, ...]) -> None:
    if request.method not in methods:
        raise MethodNotAllowed(f"this endpoint answers {', '.join(methods)}", allow=methods)


def _body() -> dict[str, Any]:
    """The JSON object of the request: 415 unless ``Content-Type: application/json`` (an empty
    body may come without one and means ``{}``), 400 unless it parses as one object."""
    data = read_body(request, MAX_BODY_BYTES)
    content_type = request.headers.get("Content-Type")
    if not data.strip() and not content_type:
        return {}
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    if essence != JSON:
        raise UnsupportedMediaType(f"send the body as JSON with Content-Type: {JSON}")
    try:
        body = json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON; send one JSON object, e.g. {}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be one JSON object, e.g. {}")
    return body


def _json(status: int, answer: dict[str, Any]) -> Response:
    return Response(json.dumps(answer), status=status, content_type=JSON)


def init_app(app: Flask, community_services: CommunityServices) -> None:
    """Register before the LDP routes' catch-all."""
    app.extensions["pod_server.community"] = community_services
    app.register_blueprint(bp)


__all__ = ["ACTIONS", "CREATE_ROUTE", "ROUTE", "Action", "CommunityServices", "init_app", "services"]
