""":class:`~pod_server.ldp.model.Result` -> Flask ``Response``, with the Solid headers.

Solid Protocol §4.1 (storage: ``Link rel=type pim:Storage``, ``rel=storageDescription``),
§4.2/§5 (``Link rel=type`` ldp:Resource/ldp:Container..., Allow, Accept-Patch/-Post/-Put on
GET, HEAD and OPTIONS), §4.3 (``Link rel=describedby``), RFC 9110 (ETag, Last-Modified, Vary).
"""

from __future__ import annotations

from email.utils import formatdate

from flask import Response

from pod_server.errors import ShapeViolation
from pod_server.http.request import FRAME_HEADER
from pod_server.ldp.identifiers import IdentifierMap, auxiliary_of, is_auxiliary
from pod_server.ldp.model import Operation, Result
from pod_server.ldp.operations import PATCH_TYPES
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.store.backend import Meta
from pod_server.vocab import LDP, PIM, SOLID

RDF_TYPES = ", ".join(formats.READABLE)
STORAGE_DESCRIPTION_REL = str(SOLID.storageDescription)
OWNER_REL = str(SOLID.owner)


def allowed_methods(path: str, ids: IdentifierMap) -> tuple[str, ...]:
    if ids.is_server_managed(path):
        return ("GET", "HEAD", "OPTIONS")
    methods = ["GET", "HEAD", "OPTIONS"]
    if path.endswith("/"):
        methods.append("POST")
    methods += ["PUT", "PATCH"]
    if path != "/" and not ids.is_storage_root(path):
        methods.append("DELETE")
    return tuple(methods)


def type_links(path: str, meta: Meta | None, ids: IdentifierMap) -> list[str]:
    if path.endswith("/"):
        types = [LDP.Container, LDP.BasicContainer, LDP.Resource]
        if ids.is_storage_root(path):
            types.append(PIM.Storage)
    elif meta is not None:
        types = [LDP.Resource, LDP.RDFSource if formats.is_rdf(meta.content_type) else LDP.NonRDFSource]
    elif is_auxiliary(path) or ids.is_server_managed(path):
        types = [LDP.Resource, LDP.RDFSource]
    else:
        return []
    return [f'<{t}>; rel="type"' for t in types]


def resource_headers(path: str, meta: Meta | None, ids: IdentifierMap, *, exists: bool) -> dict[str, str]:
    """The headers every GET, HEAD and OPTIONS answer for ``path`` carries (also on writes)."""
    links = type_links(path, meta, ids) if exists else []
    if not is_auxiliary(path) and not ids.is_server_managed(path):
        links.append(f'<{ids.to_url(auxiliary_of(path, "describedby"))}>; rel="describedby"')
        links.append(f'<{ids.to_url(auxiliary_of(path, "acl"))}>; rel="acl"')
    description = ids.storage_description(path)
    if description is not None:
        links.append(f'<{ids.to_url(description)}>; rel="{STORAGE_DESCRIPTION_REL}"')
    headers = {
        "Allow": ", ".join(allowed_methods(path, ids)),
        "Accept-Patch": ", ".join(PATCH_TYPES),
    }
    if links:
        headers["Link"] = ", ".join(links)
    if path.endswith("/"):
        headers["Accept-Post"] = "*/*"
        headers["Accept-Put"] = RDF_TYPES
    elif is_auxiliary(path):
        headers["Accept-Put"] = RDF_TYPES
    else:
        headers["Accept-Put"] = "*/*"
    return headers


def to_response(
    result: Result, op: Operation, ids: IdentifierMap, *, owners: tuple[str, ...] = ()
) -> Response:
    response = Response(status=result.status)
    body = result.body
    exists = result.meta is not None or result.status in {200, 206}
    headers = resource_headers(op.path, result.meta, ids, exists=exists)
    if exists and owners:
        # Solid Protocol §4.1: the storage root advertises its owner with rel=solid:owner.
        owner_links = ", ".join(f'<{webid}>; rel="{OWNER_REL}"' for webid in owners)
        headers["Link"] = f"{headers['Link']}, {owner_links}" if "Link" in headers else owner_links
    if result.links:
        extra = ", ".join(f'<{target}>; rel="{rel}"' for target, rel in result.links)
        headers["Link"] = f"{headers['Link']}, {extra}" if "Link" in headers else extra
    headers.update(result.headers)
    for name, value in headers.items():
        response.headers[name] = value
    # A JSON-LD frame may come in a header (docs/jsonld.md): caches must key on it too.
    response.headers["Vary"] = f"Accept, Authorization, Origin, {FRAME_HEADER}"
    meta = result.meta
    # A POST's meta describes the new child, not the target container: it gets no validators here.
    if meta is not None and op.method != "POST":
        response.headers["ETag"] = f'"{meta.etag}"'
        response.headers["Last-Modified"] = formatdate(meta.mtime, usegmt=True)
    if result.location is not None:
        response.headers["Location"] = ids.to_url(result.location)
    if body is not None:
        response.set_data(body)
        if result.content_type:
            response.headers["Content-Type"] = result.content_type
    else:
        response.headers.pop("Content-Type", None)
    if result.status in {200, 206} and "Accept-Ranges" not in response.headers:
        response.headers["Accept-Ranges"] = "bytes" if body is not None else "none"
    return response


REPORT_TYPES = (formats.TURTLE, formats.JSONLD)
"""What a SHACL validation report is written as: Turtle unless Accept prefers JSON-LD."""


def violation_response(violation: ShapeViolation, accept: str | None, base: str) -> Response:
    """A write refused by a shape-constrained container (docs/shapes.md): 422 whose body is the
    SHACL validation report, with ``Link rel=ldp:constrainedBy`` naming the shape. Only for a
    violation that has a report; the others are problem details like every error."""
    assert violation.report is not None
    chosen = formats.negotiate(accept, REPORT_TYPES) or formats.TURTLE
    response = Response(serialize(violation.report, chosen, base), status=violation.status)
    response.headers["Content-Type"] = chosen
    for name, value in violation.headers.items():
        response.headers[name] = value
    response.headers["Vary"] = "Accept, Authorization, Origin"
    return response


__all__ = ["allowed_methods", "resource_headers", "to_response", "type_links", "violation_response"]
