"""The one exception tree of pod-server.

Every error the server raises on purpose is a :class:`PodError`. Foreign errors (rdflib parse
errors, SQLAlchemy integrity errors, OS errors) are translated into this tree at the boundary
where they occur; one Flask error handler (``pod_server.http.problem``) turns the tree into
responses, as RFC 9457 problem details unless the Solid specification defines the body.

::

    PodError                       500  (never raised directly)
     +-- BadRequest                400
     |    +-- InvalidRdf           400  (carries the parser's line number when known)
     +-- Unauthorized              401
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
     +-- TooManyRequests           429  (carries Retry-After)
     +-- ServiceUnavailable        503
     +-- StorageError              500  (a backend failed; the message is safe to show)
"""

from __future__ import annotations

from collections.abc import Iterable


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


class Unauthorized(PodError):
    status = 401
    title = "Unauthorized"


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
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidRdf",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "PodError",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "ServiceUnavailable",
    "StorageError",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableContent",
    "UnsupportedMediaType",
    "UriTooLong",
]
