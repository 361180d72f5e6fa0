"""The one exception tree of pod-server.

Every error the server raises on purpose is a :class:`PodError`. Foreign errors (rdflib parse
errors, SQLAlchemy integrity errors, OS errors) are translated into this tree at the boundary
where they occur; one Flask error handler (``pod_server.http.problem``) turns the tree into
responses, as RFC 9457 problem details unless the Solid specification defines the body.

::

    PodError                       500  (never raised directly)
     +-- BadRequest                400
     |    +-- InvalidRdf           400  (carries the parser's line number when known)
     +-- Unauthorized              401  (carries WWW-Authenticate: DPoP algs=...)
     |    +-- InvalidToken         401  (adds error="invalid_token" and a description)
     +-- Forbidden                 403
     +-- NotFound                  404
     +-- MethodNotAllowed          405  (carries the allowed methods)
     +-- NotAcceptable             406
     +-- Conflict                  409
     +-- PreconditionFailed        412
     +-- PayloadTooLarge           413
     +-- UriTooLong                414
     +-- UnsupportedMediaType      415
     +-- RangeNotSatisfiable       416  (carries the resource size)
     +-- UnprocessableContent      422
     |    +-- ShapeViolation       422  (carries the shape and the SHACL report; Link rel=ldp:constrainedBy)
     +-- TooManyRequests           429  (carries Retry-After)
     +-- ServiceUnavailable        503
     +-- StorageError              500  (a backend failed; the message is safe to show)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pod_server.vocab import LDP

if TYPE_CHECKING:
    from rdflib import Graph

CONSTRAINED_BY = str(LDP.constrainedBy)
"""LDP §4.2.1.6: the link relation naming the constraints on a container's members."""


class PodError(Exception):
    """Base of every error the server raises on purpose."""

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(PodError):
    status = 400
    title = "Bad Request"


class InvalidRdf(BadRequest):
    """A body that was declared as RDF but does not parse. ``line`` is 1-based when known."""

    title = "Invalid RDF"

    def __init__(self, detail: str, *, line: int | None = None) -> None:
        super().__init__(detail if line is None else f"line {line}: {detail}")
        self.line = line


DPOP_ALGORITHMS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
"""The DPoP proof algorithms the server accepts (RFC 9449 §4.3 point 5), advertised in challenges."""
DPOP_CHALLENGE = f'DPoP algs="{" ".join(DPOP_ALGORITHMS)}"'
"""The ``WWW-Authenticate`` challenge of a 401 (RFC 9449 §7.1; RFC 9110 §11.6.1: a 401 MUST carry one)."""


class Unauthorized(PodError):
    """401. Without a ``WWW-Authenticate`` header of its own, it carries the DPoP challenge."""

    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, headers=headers)
        self.headers.setdefault("WWW-Authenticate", DPOP_CHALLENGE)


class InvalidToken(Unauthorized):
    """Credentials were sent but failed a check (RFC 6750 §3.1 ``invalid_token``). ``check`` names
    the rule for logs and tests; the detail says what was wrong and is safe to show."""

    title = "Invalid Token"

    def __init__(self, detail: str, *, check: str) -> None:
        # RFC 6750 §3: error_description holds %x20-21 / %x23-5B / %x5D-7E only (no quote or backslash).
        described = "".join(c for c in detail.replace('"', "'") if " " <= c <= "~" and c != "\\")
        challenge = f'{DPOP_CHALLENGE}, error="invalid_token", error_description="{described}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})
        self.check = check


class Forbidden(PodError):
    status = 403
    title = "Forbidden"


class NotFound(PodError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(PodError):
    status = 405
    title = "Method Not Allowed"

    def __init__(self, detail: str, *, allow: Iterable[str]) -> None:
        self.allow = tuple(allow)
        super().__init__(detail, headers={"Allow": ", ".join(self.allow)})


class NotAcceptable(PodError):
    status = 406
    title = "Not Acceptable"


class Conflict(PodError):
    status = 409
    title = "Conflict"


class PreconditionFailed(PodError):
    status = 412
    title = "Precondition Failed"


class PayloadTooLarge(PodError):
    status = 413
    title = "Content Too Large"


class UriTooLong(PodError):
    status = 414
    title = "URI Too Long"


class UnsupportedMediaType(PodError):
    status = 415
    title = "Unsupported Media Type"


class RangeNotSatisfiable(PodError):
    status = 416
    title = "Range Not Satisfiable"

    def __init__(self, detail: str, *, size: int) -> None:
        super().__init__(detail, headers={"Content-Range": f"bytes */{size}"})
        self.size = size


class UnprocessableContent(PodError):
    status = 422
    title = "Unprocessable Content"


class ShapeViolation(UnprocessableContent):
    """A write into a shape-constrained container (docs/shapes.md) was refused; nothing was stored.

    ``shape`` is the IRI or URL the container names with ``ldp:constrainedBy``; ``report`` is the
    SHACL validation report (``sh:conforms false``), or ``None`` when there is no report to give:
    the body was not RDF, was a container, or had no node the shapes target. The response carries
    ``Link: <shape>; rel="http://www.w3.org/ns/ldp#constrainedBy"``.
    """

    title = "Shape Violation"

    def __init__(self, detail: str, *, shape: str, report: Graph | None = None) -> None:
        super().__init__(detail, headers={"Link": f'<{shape}>; rel="{CONSTRAINED_BY}"'})
        self.shape = shape
        self.report = report


class TooManyRequests(PodError):
    """RFC 6585 §4: the client sent too many requests (e.g. failed logins) in a window."""

    status = 429
    title = "Too Many Requests"


class ServiceUnavailable(PodError):
    status = 503
    title = "Service Unavailable"


class StorageError(PodError):
    """A backend failed in a way the client cannot fix. The detail must be safe to show."""

    status = 500
    title = "Storage Error"


__all__ = [
    "CONSTRAINED_BY",
    "DPOP_ALGORITHMS",
    "DPOP_CHALLENGE",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidRdf",
    "InvalidToken",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "PodError",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "ServiceUnavailable",
    "ShapeViolation",
    "StorageError",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableContent",
    "UnsupportedMediaType",
    "UriTooLong",
]
