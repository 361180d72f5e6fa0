"""Fields of the JSON bodies the community endpoints take (model §5): each helper returns the
checked value or raises :class:`~pod_server.errors.BadRequest` naming the field and the fix."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pod_server.errors import BadRequest

MAX_IRI_LENGTH = 2048


def text(body: dict[str, Any], name: str, *, required: bool = False, max_length: int = 200) -> str | None:
    """A string of 1..``max_length`` printable characters (surrounding spaces dropped)."""
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f'the field "{name}" is missing; send it as a string')
        return None
    if not isinstance(value, str):
        raise BadRequest(f'the field "{name}" must be a string')
    value = value.strip()
    if not value or len(value) > max_length:
        raise BadRequest(f'the field "{name}" must be 1 to {max_length} characters long')
    if any(ord(c) < 0x20 and c not in "\n\t" for c in value):
        raise BadRequest(f'the field "{name}" has control characters; remove them')
    return value


def check_iri(value: str, name: str) -> str:
    """An absolute http(s) IRI without spaces (a fragment is allowed)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.netloc
        or len(value) > MAX_IRI_LENGTH
        or any(c.isspace() or c in '<>"{}|\\^`' for c in value)
    ):
        raise BadRequest(f'the field "{name}" must be an absolute http(s) IRI such as https://example.org/x')
    return value


def iri(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f'the field "{name}" is missing; send an absolute http(s) IRI')
        return None
    if not isinstance(value, str):
        raise BadRequest(f'the field "{name}" must be a string holding an absolute http(s) IRI')
    return check_iri(value.strip(), name)


def required_iri(body: dict[str, Any], name: str) -> str:
    found = iri(body, name, required=True)
    assert found is not None  # iri() raises for a missing required field
    return found


def iri_list(body: dict[str, Any], name: str, *, max_items: int = 20) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > max_items or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'the field "{name}" must be a list of at most {max_items} IRIs (strings)')
    return tuple(check_iri(v.strip(), name) for v in value)


def only(body: dict[str, Any], names: set[str]) -> None:
    """Refuse fields nobody reads, so a typo ("rol") is not silently ignored."""
    unknown = sorted(set(body) - names)
    if unknown:
        raise BadRequest(
            f"unknown field(s) {', '.join(repr(u) for u in unknown)}; this endpoint reads "
            + (", ".join(sorted(names)) or "no fields (send {})")
        )


__all__ = ["MAX_IRI_LENGTH", "check_iri", "iri", "iri_list", "only", "required_iri", "text"]
