"""An example community web app: log in with Solid-OIDC and see a community's members,
contributions, credit and open proposals, read from the pods they live in (docs/community-model.md).

Run it::

    COMMUNITY_APP_COMMUNITY=https://pods.example/commons/ \\
    COMMUNITY_APP_BASE_URL=http://127.0.0.1:5000/ \\
    flask --app 'community_app:create_app()' run

or ``python -m community_app``. docs/community-app.md describes the pages and the security model.

Modules: ``config`` (settings), ``fetch`` (every outbound request), ``oidc`` (the relying party),
``sessions`` (server-side login state), ``community``/``contributions``/``credit``/``proposals``
(reading the data), ``views`` (the pages).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect  # Flask-WTF ships no type hints: see mypy overrides in pyproject

from community_app.config import AppConfig
from community_app.sessions import MemorySessionStore, SessionStore
from community_app.views import AppState, bp

COOKIE = "community_app_session"
"""Not Flask's default ``session``: cookies ignore ports, and a pod server on the same host uses that name."""


def create_app(config: AppConfig | None = None, *, store: SessionStore | None = None) -> Flask:
    """The app for ``config`` (default: :meth:`AppConfig.from_env`). ``store`` keeps the logins
    (default: this process's memory)."""
    config = config or AppConfig.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key.reveal(),
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the provider's redirect back is a top-level GET: Lax sends it
        SESSION_COOKIE_SECURE=config.base_url.startswith("https:"),
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session instead
    )
    CSRFProtect(app)
    app.extensions["community_app"] = AppState(config, store or MemorySessionStore(config.session_idle))
    app.register_blueprint(bp)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self'; frame-ancestors 'none'"
        )
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


__all__ = ["AppConfig", "create_app"]
