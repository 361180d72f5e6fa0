"""The three parts of a compact JWS (RFC 7515 §7.1), decoded before any signature check.

DPoP proofs and access tokens are both compact JWSs; each caller turns a failure into its own
error (a DPoP error, an invalid token) through ``fail``, which gets a short reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from pod_server.errors import PodError

Fail = Callable[[str], PodError]


class Parts(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: bytes
    signing_input: bytes
    """What the signature covers: the first two parts as sent, joined by a dot (RFC 7515 §5.2)."""


def split(compact: str, fail: Fail) -> Parts:
    """The parts of ``compact``; ``fail`` is raised for anything malformed."""
    segments = compact.split(".")
    if len(segments) != 3 or not all(segments):
        raise fail("is not a JWT (a compact JWS: three base64url parts joined by dots)")
    return Parts(
        _json_object(_unb64(segments[0], fail), "header", fail),
        _json_object(_unb64(segments[1], fail), "payload", fail),
        _unb64(segments[2], fail),
        f"{segments[0]}.{segments[1]}".encode("ascii"),
    )


def _unb64(text: str, fail: Fail) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise fail("is not a JWT (a part is not base64url)") from None


def _json_object(raw: bytes, what: str, fail: Fail) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise fail(f"has a {what} that is not JSON") from None
    if not isinstance(value, dict):
        raise fail(f"has a {what} that is not a JSON object")
    return value


__all__ = ["Parts", "split"]
