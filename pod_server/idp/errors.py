"""OAuth errors (RFC 6749 §5.2, RFC 9449 §5, RFC 7591 §3.2.2) as members of our exception tree.

The provider's endpoints answer an :class:`OAuthError` as ``{"error", "error_description"}`` JSON
(or, at the authorization endpoint once the redirect URI is trusted, as a redirect carrying them).
"""

from __future__ import annotations

from pod_server.errors import BadRequest


class OAuthError(BadRequest):
    """``error`` is the registered OAuth error code; ``detail`` the safe description."""

    title = "OAuth Error"

    def __init__(
        self, error: str, detail: str, *, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers=headers)
        self.error = error
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.detail}


def invalid_request(detail: str) -> OAuthError:
    return OAuthError("invalid_request", detail)


def invalid_client(detail: str) -> OAuthError:
    # RFC 6749 §5.2: 401 with a WWW-Authenticate challenge when the client tried HTTP Basic.
    return OAuthError(
        "invalid_client", detail, status=401, headers={"WWW-Authenticate": 'Basic realm="token"'}
    )


def invalid_grant(detail: str) -> OAuthError:
    return OAuthError("invalid_grant", detail)


__all__ = ["OAuthError", "invalid_client", "invalid_grant", "invalid_request"]
