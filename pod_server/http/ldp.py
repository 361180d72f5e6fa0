"""The catch-all blueprint that serves resources: parse -> authorize -> operate -> respond."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, request

from pod_server.access.credentials import PUBLIC, Credentials
from pod_server.access.decision import AccessPolicy
from pod_server.http import cors
from pod_server.http.request import to_operation
from pod_server.http.response import to_response
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.ldp.operations import HANDLERS, Context
from pod_server.ldp.owners import NoOwners, OwnerLookup

METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]

bp = Blueprint("ldp", __name__)


@dataclass(frozen=True)
class LdpServices:
    """What the LDP routes need, built once in ``create_app`` and kept on ``app.extensions``."""

    context: Context
    ids: IdentifierMap
    access: AccessPolicy
    max_body_bytes: int
    default_page_size: int
    owners: OwnerLookup = field(default_factory=NoOwners)


def services() -> LdpServices:
    found: LdpServices = current_app.extensions["pod_server.ldp"]
    return found


def credentials() -> Credentials:
    """Who is asking. Authentication (Solid-OIDC) replaces this with the verified WebID."""
    return PUBLIC


@bp.route("/", defaults={"_path": ""}, methods=METHODS, strict_slashes=False)
@bp.route("/<path:_path>", methods=METHODS, strict_slashes=False)
def resource(_path: str) -> Response:
    if cors.is_preflight():
        return cors.preflight_response()
    s = services()
    op = to_operation(request, s.ids, max_body_bytes=s.max_body_bytes, default_page_size=s.default_page_size)
    s.access.authorize(op, credentials())
    result = HANDLERS[op.method](op, s.context)
    owners = s.owners.owners_of(op.path) if s.ids.is_storage_root(op.path) else ()
    return to_response(result, op, s.ids, owners=owners)


def init_app(app: Flask, ldp_services: LdpServices) -> None:
    app.extensions["pod_server.ldp"] = ldp_services
    app.url_map.merge_slashes = False
    app.register_blueprint(bp)


__all__ = ["LdpServices", "bp", "init_app"]
