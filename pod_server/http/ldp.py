"""The catch-all blueprint that serves resources: parse -> authorize -> operate -> respond."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, g, request

from pod_server.access.acl import CONDITION_REL, SUPPORTED_CONDITIONS, is_acl
from pod_server.access.credentials import Credentials
from pod_server.access.decision import AccessPolicy
from pod_server.auth.authenticator import Authenticator, PublicOnly
from pod_server.errors import ShapeViolation
from pod_server.http import cors
from pod_server.http.request import to_operation
from pod_server.http.response import to_response, violation_response
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
    authenticator: Authenticator = field(default_factory=PublicOnly)


def services() -> LdpServices:
    found: LdpServices = current_app.extensions["pod_server.ldp"]
    return found


def credentials(s: LdpServices, url: str) -> Credentials:
    """Who is asking (the authenticator), and from which web origin (WAC's acl:origin)."""
    headers = request.headers
    found = s.authenticator.authenticate(
        request.method, url, headers.get("Authorization"), headers.getlist("DPoP")
    )
    return found.with_origin(request.headers.get("Origin"))


@bp.route("/", defaults={"_path": ""}, methods=METHODS, strict_slashes=False)
@bp.route("/<path:_path>", methods=METHODS, strict_slashes=False)
def resource(_path: str) -> Response:
    if cors.is_preflight():
        return cors.preflight_response()
    s = services()
    op = to_operation(request, s.ids, max_body_bytes=s.max_body_bytes, default_page_size=s.default_page_size)
    g.pod_url = op.url  # the canonical URL, for after-request hooks (notifications' Link)
    permissions = s.access.authorize(op, credentials(s, op.url))
    try:
        result = HANDLERS[op.method](op, s.context)
    except ShapeViolation as violation:
        if violation.report is None:
            raise  # a problem+json like any other error
        return violation_response(violation, request.headers.get("Accept"), op.url)
    owners = s.owners.owners_of(op.path) if s.ids.is_storage_root(op.path) else ()
    response = to_response(result, op, s.ids, owners=owners)
    if op.method in {"GET", "HEAD"}:
        # WAC §5.1: WAC-Allow on every GET and HEAD.
        response.headers["WAC-Allow"] = permissions.wac_allow()
    if op.method in {"GET", "HEAD", "OPTIONS"} and is_acl(op.path):
        # WAC "ACL Resource Condition Discovery": the condition types this server evaluates.
        extra = ", ".join(f'<{t}>; rel="{CONDITION_REL}"' for t in SUPPORTED_CONDITIONS)
        link = response.headers.get("Link")
        response.headers["Link"] = f"{link}, {extra}" if link else extra
    return response


def init_app(app: Flask, ldp_services: LdpServices) -> None:
    app.extensions["pod_server.ldp"] = ldp_services
    app.url_map.merge_slashes = False
    app.register_blueprint(bp)


__all__ = ["LdpServices", "bp", "init_app"]
