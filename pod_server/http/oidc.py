"""The provider's HTTP endpoints (a Flask blueprint): the only Flask code of ``pod_server.idp``.

=====================================  ==============================================================
``GET /.well-known/openid-configuration``  discovery (OIDC Discovery §3, Solid-OIDC §4, RFC 8414)
``GET /.oidc/jwks``                    the public signing keys
``GET|POST /.oidc/auth``               authorization: login redirect, consent page, code (RFC 6749 §4.1)
``POST /.oidc/token``                  token grants with DPoP (RFC 6749 §5, RFC 9449 §5)
``POST /.oidc/register``               dynamic client registration (RFC 7591)
``GET|POST /.oidc/session/end``        RP-initiated logout (OpenID RP-Initiated Logout 1.0)
=====================================  ==============================================================

Each view turns the request into plain values for :class:`~pod_server.idp.provider.Provider` and
its answer (or :class:`~pod_server.idp.errors.OAuthError`) into a response. Browser login is the
accounts module's page (``/.account/login?return_to=...``), which leaves ``session["account_id"]``.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from pod_server.accounts.directory import Account
from pod_server.auth.dpop import ALGORITHMS as DPOP_ALGORITHMS
from pod_server.http import cors
from pod_server.idp.clients import AUTH_METHODS
from pod_server.idp.errors import OAuthError, invalid_client, invalid_request
from pod_server.idp.provider import (
    SCOPES,
    AuthorizationRequest,
    ClientAuth,
    Provider,
    RedirectError,
    with_query,
)
from pod_server.idp.tokens import ID_TOKEN_ALG

bp = Blueprint("oidc", __name__)
_STALE_FORM = "the form expired or did not come from this server; go back to the app and try again"
EXTENSION = "pod_server.idp"
SOLID_OIDC = "https://solidproject.org/TR/solid-oidc"
"""The value of ``solid_oidc_supported`` (Solid-OIDC §4.1); a spec URL, not an RDF term."""


def _provider() -> Provider:
    provider: Provider = current_app.extensions[EXTENSION]
    return provider


def _no_store(response: Response) -> Response:
    # RFC 6749 §5.1: token responses must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _oauth_json(error: OAuthError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return _no_store(response)


@bp.before_request
def _preflight() -> Response | None:
    return cors.preflight_response() if cors.is_preflight() else None


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    issuer = _provider().issuer
    document = {
        # The issuer is the base URL, trailing slash included, exactly as CSS does, and the same
        # string goes into every token's iss (Solid-OIDC §4; RFC 8414 §3.3).
        "issuer": issuer,
        "authorization_endpoint": issuer + ".oidc/auth",
        "token_endpoint": issuer + ".oidc/token",
        "jwks_uri": issuer + ".oidc/jwks",
        "registration_endpoint": issuer + ".oidc/register",
        "end_session_endpoint": issuer + ".oidc/session/end",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "webid"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "solid_oidc_supported": SOLID_OIDC,
    }
    response = jsonify(document)
    response.headers["Cache-Control"] = "max-age=300"
    return response


@bp.get("/.oidc/jwks")
def jwks() -> Response:
    response = jsonify(_provider().keys.jwks())
    response.headers["Cache-Control"] = "max-age=300"  # short: a rotation shows within minutes
    return response


# -- authorization ------------------------------------------------------------------------------


def _account() -> Account | None:
    account_id = session.get("account_id")
    if not isinstance(account_id, str):
        return None
    return _provider().directory.get(account_id)


def _login_redirect() -> BaseResponse:
    base_path = urlsplit(_provider().issuer).path
    return_to = base_path + ".oidc/auth?" + urlencode(_params())
    return redirect(base_path + ".account/login?" + urlencode({"return_to": return_to}), code=303)


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {k: v for k, v in source.items() if k not in {"csrf_token", "decision", "webid", "remember"}}


def _error_page(error: OAuthError) -> Response:
    body = render_template("idp/error.html", error=error)
    return Response(body, status=error.status if error.status < 500 else 400, mimetype="text/html")


def _consent_page(account: Account, auth: AuthorizationRequest, status: int = 200) -> Response:
    body = render_template(
        "idp/consent.html",
        auth=auth,
        client=auth.client,
        account=account,
        redirect_host=urlsplit(auth.redirect_uri).netloc or auth.redirect_uri,
        csrf_token=generate_csrf(),
    )
    return Response(body, status=status, mimetype="text/html")


@bp.route("/.oidc/auth", methods=["GET", "POST"])
def authorize() -> BaseResponse:
    provider = _provider()
    try:
        provider.token_throttle.hit("auth:" + (request.remote_addr or ""))
        auth = provider.authorization_request(_params())
    except RedirectError as exc:
        return redirect(exc.location, code=303)
    except OAuthError as exc:
        return _error_page(exc)
    account = _account()
    if account is None or not account.webids:
        if "none" in auth.prompt:
            return redirect(provider.deny(auth).replace("access_denied", "login_required", 1), code=303)
        return _login_redirect()
    auth_time = float(session.get("auth_time", time.time()))
    if request.method == "GET":
        webid = provider.remembered_webid(account, auth)
        if webid is not None:
            return redirect(provider.issue_code(account, auth, webid, auth_time), code=303)
        if "none" in auth.prompt:
            return redirect(provider.deny(auth).replace("access_denied", "consent_required", 1), code=303)
        return _consent_page(account, auth)
    # POST: the consent form. CSRF first (Flask-WTF's token, bound to this session).
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return _error_page(invalid_request(_STALE_FORM))
    if request.form.get("decision") != "allow":
        return redirect(provider.deny(auth), code=303)
    webid = request.form.get("webid") or account.webids[0]
    if webid not in account.webids:
        return _consent_page(account, auth, status=400)
    if request.form.get("remember"):
        provider.remember_consent(account, auth, webid)
    return redirect(provider.issue_code(account, auth, webid, auth_time), code=303)


# -- token and registration -----------------------------------------------------------------------


def _client_auth() -> ClientAuth:
    header = request.headers.get("Authorization", "")
    form_id = request.form.get("client_id")
    form_secret = request.form.get("client_secret")
    if header[:6].lower() == "basic ":
        if form_secret is not None:
            raise invalid_request("use one client authentication method, not HTTP Basic and client_secret")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client("the Basic credentials are not valid base64") from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise invalid_client("the Basic credentials must be client_id:client_secret")
        # RFC 6749 §2.3.1: both are form-urlencoded first (solid-client-authn-node does this).
        client_id = unquote_plus(raw_id)
        if form_id is not None and form_id != client_id:
            raise invalid_request("client_id in the form differs from the one in HTTP Basic")
        return ClientAuth(client_id, unquote_plus(raw_secret), "client_secret_basic")
    if form_secret is not None:
        return ClientAuth(form_id, form_secret, "client_secret_post")
    return ClientAuth(form_id, None, "none")


@bp.post("/.oidc/token")
def token() -> Response:
    if request.mimetype != "application/x-www-form-urlencoded":
        return _oauth_json(invalid_request("send the token request as application/x-www-form-urlencoded"))
    try:
        form = {k: v for k, v in request.form.items()}
        answer = _provider().token(
            form, _client_auth(), request.headers.getlist("DPoP"), request.remote_addr or ""
        )
    except OAuthError as exc:
        return _oauth_json(exc)
    return _no_store(jsonify(answer))


@bp.post("/.oidc/register")
def register() -> Response:
    provider = _provider()
    try:
        provider.token_throttle.hit("register:" + (request.remote_addr or ""))
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise OAuthError("invalid_client_metadata", "send the client metadata as a JSON object")
        answer = provider.clients.register(data)
    except OAuthError as exc:
        return _oauth_json(exc)
    response = jsonify(answer)
    response.status_code = 201
    return _no_store(response)


# -- logout ---------------------------------------------------------------------------------------


def _hint_claims(hint: str | None) -> dict[str, Any] | None:
    """The claims of an ID token we signed (expired is fine: it only names who is logging out)."""
    if not hint:
        return None
    keys = KeySet.import_key_set(_provider().keys.jwks())  # type: ignore[arg-type]
    try:
        decoded = jwt.decode(hint, keys, algorithms=["RS256", "ES256"])
    except (JoseError, ValueError):
        return None
    if decoded.claims.get("iss") != _provider().issuer:
        return None
    return dict(decoded.claims)


@bp.route("/.oidc/session/end", methods=["GET", "POST"])
def end_session() -> BaseResponse:
    provider = _provider()
    params = request.form if request.method == "POST" else request.args
    claims = _hint_claims(params.get("id_token_hint"))
    client_id = params.get("client_id") or (claims or {}).get("azp")
    target = params.get("post_logout_redirect_uri")
    if target is not None:
        try:
            client = provider.clients.resolve(str(client_id or ""))
        except OAuthError as exc:
            return _error_page(exc)
        if target not in client.post_logout_redirect_uris:
            return _error_page(invalid_request("post_logout_redirect_uri is not one the app registered"))
        target = with_query(target, {"state": params.get("state")})
    account = _account()
    confirmed = False
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
            confirmed = request.form.get("decision") == "logout"
            if not confirmed:  # "Stay logged in": back to the app, still logged in
                return redirect(target, code=303) if target else redirect(_provider().issuer, code=303)
        except (ValidationError, CSRFError):
            return _error_page(
                invalid_request("the form expired or did not come from this server; try again")
            )
    elif claims is not None and account is not None and claims.get("sub") in account.webids:
        confirmed = True  # the app proved which login it ends: no need to ask
    if account is not None and not confirmed:
        hidden = {k: v for k, v in params.items() if k not in {"csrf_token", "decision"}}
        body = render_template("idp/logout.html", hidden=hidden, csrf_token=generate_csrf(), done=False)
        return Response(body, mimetype="text/html")
    if confirmed:
        session.clear()
    if target is not None:
        return redirect(target, code=303)
    return Response(render_template("idp/logout.html", done=True, hidden={}), mimetype="text/html")


def init_app(app: Flask, provider: Provider) -> None:
    app.extensions[EXTENSION] = provider
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # machine endpoints authenticate clients, not browser sessions
        csrf.exempt(token)
        csrf.exempt(register)


__all__ = ["EXTENSION", "bp", "init_app"]
