"""What goes wrong talking to a pod: one small exception tree, each carrying the server's message.

.. code-block:: text

    PodClientError            any failure (status is the HTTP status, or None for network errors)
     +-- NotAuthenticated     401: log in, or the session has ended
     +-- Forbidden            403: logged in, but not allowed
     +-- NotFound             404
     +-- Conflict             409
     +-- PreconditionFailed   412: the resource changed since it was read (ETag mismatch)
"""

from __future__ import annotations

from typing import Any


class PodClientError(Exception):
    """A request failed. ``status`` is the HTTP status (``None`` when no answer came), ``url``
    the request's URL, ``message`` the server's explanation (an RFC 9457 ``detail``, or the body)."""

    status: int | None = None

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        code = f"{self.status}: " if self.status is not None else ""
        return f"{code}{self.message}{where}"


class NotAuthenticated(PodClientError):
    """401: not logged in, or the login has ended (log in again)."""

    status = 401


class Forbidden(PodClientError):
    """403: logged in, but this WebID (or this app) may not do that."""

    status = 403


class NotFound(PodClientError):
    """404: nothing is at that URL (or the container it would be in does not exist)."""

    status = 404


class Conflict(PodClientError):
    """409: the request conflicts with the resource as it is, e.g. deleting a non-empty
    container, or a patch deleting a triple that is no longer there."""

    status = 409


class PreconditionFailed(PodClientError):
    """412: the resource changed since its ETag was read (or exists, for ``etag="*"``): read it again."""

    status = 412


_BY_STATUS: dict[int, type[PodClientError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
}


def server_message(response: Any) -> str:
    """The server's explanation in ``response`` (a ``requests.Response``): a problem+json
    ``detail`` or ``title``, else the start of the body, else the reason phrase."""
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("detail", "title", "error_description", "message", "error"):
                if isinstance(body.get(key), str) and body[key]:
                    return str(body[key])
    if "turtle" in content_type:  # CSS describes errors as RDF (dcterms:description, dcterms:title)
        found = _rdf_message(response.text or "", str(response.url))
        if found:
            return found
    text = (response.text or "").strip()
    if text and len(text) < 500 and "<html" not in text.lower():
        return text
    return str(response.reason or f"HTTP {response.status_code}")


def _rdf_message(text: str, base: str) -> str | None:
    from rdflib import Graph
    from rdflib.namespace import DCTERMS

    try:
        graph = Graph().parse(data=text, format="turtle", publicID=base)
    except Exception:  # a body that is not Turtle after all: fall back to the text
        return None
    for predicate in (DCTERMS.description, DCTERMS.title):
        for value in graph.objects(None, predicate):
            if str(value).strip():
                return str(value).strip()
    return None


def raise_for_status(response: Any) -> Any:
    """``response`` if it succeeded (2xx or 3xx); otherwise the matching error, with the server's message."""
    status = int(response.status_code)
    if status < 400:
        return response
    error = _BY_STATUS.get(status, PodClientError)
    raise error(server_message(response), url=str(response.url), status=status)


__all__ = [
    "Conflict",
    "Forbidden",
    "NotAuthenticated",
    "NotFound",
    "PodClientError",
    "PreconditionFailed",
    "raise_for_status",
    "server_message",
]
