"""The account pages and the JSON account API, under ``/.account/``.

HTML pages (server-rendered, no JavaScript) and the JSON API (``/.account/api/...``, documented in
docs/accounts.md) call the same :class:`~pod_server.accounts.service.SqlAccountDirectory` methods.

Who is asking: the signed session cookie (``session["account_id"]``, also read by the identity
provider's /authorize), or, for the JSON API only, ``Authorization: Bearer <account token>``.
Every state-changing request made with the cookie must carry the CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``; OWASP CSRF Prevention Cheat Sheet, synchronizer token);
bearer-token requests carry no ambient credentials, so they need none.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
)
from flask_wtf.csrf import (  # Flask-WTF ships no type hints: see mypy overrides in pyproject
    CSRFError,
    generate_csrf,
    validate_csrf,
)
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from pod_server.accounts.directory import Account
from pod_server.accounts.pods import check_pod_name
from pod_server.accounts.service import (
    Challenge,
    NewCredential,
    Pod,
    SqlAccountDirectory,
    check_email,
    check_password,
)
from pod_server.accounts.throttle import LoginThrottle, TooManyAttempts
from pod_server.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PodError,
    Unauthorized,
    UnsupportedMediaType,
)

bp = Blueprint("accounts", __name__, url_prefix="/.account")

SESSION_KEY = "account_id"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_EXEMPT = frozenset({"accounts.api_login", "accounts.api_register"})
"""JSON endpoints that use no ambient credential: they authenticate from the body alone, and a
cross-site page cannot send them JSON without a CORS preflight."""


@dataclass(frozen=True)
class AccountPages:
    directory: SqlAccountDirectory
    throttle: LoginThrottle
    base_url: str
    single_pod: bool


def _pages() -> AccountPages:
    found: AccountPages = current_app.extensions["pod_server.account_pages"]
    return found


def _is_api() -> bool:
    return request.path.startswith(bp.url_prefix + "/api/")  # type: ignore[operator]


# -- who is asking -----------------------------------------------------------------------------
@bp.before_request
def _identify() -> None:
    g.account = None
    g.via_token = False
    header = request.headers.get("Authorization", "")
    if header and _is_api():
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "send Authorization: Bearer <token>, with a token from POST /.account/api/login"
            )
        g.account = _pages().directory.account_for_token(token.strip())
        if g.account is None:
            raise Unauthorized("the account token is unknown or expired; log in again for a new one")
        g.via_token = True
        g.token = token.strip()
    elif SESSION_KEY in session:
        g.account = _pages().directory.get(str(session[SESSION_KEY]))
        if g.account is None:  # the account was deleted: the cookie is stale
            session.pop(SESSION_KEY, None)
    if request.method in UNSAFE and not g.via_token and request.endpoint not in CSRF_EXEMPT:
        sent = request.headers.get(CSRF_HEADER) or (
            request.form.get("csrf_token")
            if request.mimetype == "application/x-www-form-urlencoded"
            else None
        )
        try:
            validate_csrf(sent)
        except (CSRFError, ValidationError):
            _csrf_refused()


def _csrf_refused() -> NoReturn:
    message = (
        "the form expired or did not come from this site: reload the page and try again"
        if not _is_api()
        else f"send the CSRF token from GET /.account/api/csrf in the {CSRF_HEADER} header, "
        "or authenticate with Authorization: Bearer"
    )
    if _is_api():
        raise Forbidden(message)
    raise _Page(render_template("accounts/error.html", title="Form expired", message=message), 403)


class _Page(HTTPException):
    """A rendered HTML page raised from a hook (werkzeug sends ``response`` as it is)."""

    def __init__(self, body: str, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(response=Response(body, status=status, headers=headers, content_type="text/html"))


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": generate_csrf, "account": g.get("account"), "single_pod": _pages().single_pod}


def _login_url(return_to: str | None = None) -> str:
    target = bp.url_prefix + "/login"  # type: ignore[operator]
    return target + ("?" + urlencode({"return_to": return_to}) if return_to else "")


def _safe_return_to(value: str | None) -> str | None:
    """``value`` if it points into this server (a relative path or a same-origin URL), else None:
    an open redirect would let anyone send a user anywhere after logging in."""
    if not value or len(value) > 4096 or any(ord(c) < 0x21 or c == "\\" for c in value):
        return None
    parts = urlsplit(value)
    base = urlsplit(_pages().base_url)
    if parts.scheme or parts.netloc:
        if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
            return None
    elif not value.startswith("/") or value.startswith("//"):
        return None
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _client_ip() -> str | None:
    return request.remote_addr


def _require_account() -> Account:
    account: Account | None = g.account
    if account is None:
        if _is_api():
            raise Unauthorized("log in first: POST /.account/api/login, then send the token as Bearer")
        raise _Redirect(_login_url(request.full_path.rstrip("?")))
    return account


class _Redirect(HTTPException):
    def __init__(self, location: str) -> None:
        super().__init__(response=redirect(location, 303))


def _begin_session(account: Account) -> None:
    session.clear()  # a fresh session: no fixation, no stale CSRF token
    session[SESSION_KEY] = account.id


def _login(email: str, password: str) -> Account:
    """Check the throttle, then the password. Raises TooManyAttempts or Forbidden."""
    pages = _pages()
    pages.throttle.check(email, _client_ip())
    account = pages.directory.authenticate(email, password)
    if account is None:
        pages.throttle.failed(email, _client_ip())
        raise Forbidden("the email or password is wrong")
    pages.throttle.succeeded(email)
    return account


def _confirm_password(account: Account, password: str) -> None:
    """Sensitive changes re-ask for the password (throttled like a login)."""
    _login(account.email, password)


# -- JSON API ----------------------------------------------------------------------------------
def _json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the request body as JSON with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, such as {"email": "...", "password": "..."}')
    return body


def _field(body: dict[str, Any], name: str, *, required: bool = True, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"the JSON body needs the field {name!r}")
        return default
    if not isinstance(value, str):
        raise BadRequest(f"the field {name!r} must be a string")
    return value


def _account_json(account: Account) -> dict[str, Any]:
    d = _pages().directory
    return {
        "id": account.id,
        "email": account.email,
        "pods": [_pod_json(p) for p in d.pods(account.id)],
        "webids": [{"webid": w.webid, "kind": w.kind, "verified": w.verified} for w in d.webids(account.id)],
        "credentials": [
            {"client_id": c.client_id, "webid": c.webid, "name": c.name} for c in d.credentials(account.id)
        ],
        "pending_webids": [_challenge_json(c) for c in d.challenges(account.id)],
    }


def _pod_json(pod: Pod) -> dict[str, str]:
    return {"name": pod.name, "pod": pod.url, "webid": pod.webid}


def _challenge_json(c: Challenge) -> dict[str, str]:
    return {"webid": c.webid, "code": c.code, "triple": c.triple, "issuer": c.issuer}


def _credential_json(c: NewCredential) -> dict[str, str]:
    return {
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "webid": c.webid,
        "name": c.name,
        "issuer": c.issuer,
    }


def _created(payload: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(payload), 201


@bp.get("/api/csrf")
def api_csrf() -> Response:
    return jsonify({"csrf_token": generate_csrf(), "header": CSRF_HEADER})


@bp.post("/api/accounts")
def api_register() -> tuple[Response, int]:
    body = _json_body()
    email, password = _field(body, "email"), _field(body, "password")
    pod_name = _field(body, "pod", required=False)
    account = _register(email, password, pod_name)
    return _created(_account_json(account))


@bp.post("/api/login")
def api_login() -> Response:
    body = _json_body()
    account = _login(_field(body, "email"), _field(body, "password"))
    _begin_session(account)
    token = _pages().directory.issue_token(account.id)
    return jsonify({"token": token, "csrf_token": generate_csrf(), "account": _account_json(account)})


@bp.post("/api/logout")
def api_logout() -> Response:
    if g.via_token:
        _pages().directory.revoke_token(g.token)
    session.clear()
    return Response(status=204)


@bp.get("/api/account")
def api_account() -> Response:
    return jsonify(_account_json(_require_account()))


@bp.post("/api/password")
def api_password() -> Response:
    account = _require_account()
    body = _json_body()
    current, new = _field(body, "current_password"), _field(body, "new_password")
    check_password(new)
    _confirm_password(account, current)
    _pages().directory.change_password(account.id, current, new)
    return Response(status=204)


@bp.get("/api/pods")
def api_pods() -> Response:
    account = _require_account()
    return jsonify([_pod_json(p) for p in _pages().directory.pods(account.id)])


@bp.post("/api/pods")
def api_create_pod() -> tuple[Response, int]:
    account = _require_account()
    body = _json_body()
    name = _field(body, "name", required=not _pages().single_pod)
    return _created(_pod_json(_pages().directory.create_pod(account.id, name)))


@bp.post("/api/credentials")
def api_create_credential() -> tuple[Response, int]:
    account = _require_account()
    body = _json_body()
    webid = _field(body, "webid", required=False) or (account.webids[0] if account.webids else "")
    created = _pages().directory.create_credential(account.id, webid, _field(body, "name", required=False))
    return _created(_credential_json(created))


@bp.delete("/api/credentials/<client_id>")
def api_revoke_credential(client_id: str) -> Response:
    account = _require_account()
    _pages().directory.revoke_credential(account.id, client_id)
    return Response(status=204)


@bp.post("/api/webids")
def api_link_webid() -> tuple[Response, int]:
    account = _require_account()
    challenge = _pages().directory.start_webid_link(account.id, _field(_json_body(), "webid"))
    return _created(_challenge_json(challenge))


@bp.post("/api/webids/verify")
def api_verify_webid() -> Response:
    account = _require_account()
    linked = _pages().directory.verify_webid(account.id, _field(_json_body(), "webid"))
    return jsonify({"webid": linked.webid, "kind": linked.kind, "verified": linked.verified})


@bp.post("/api/account/delete")
def api_delete_account() -> Response:
    account = _require_account()
    body = _json_body()
    choice = _field(body, "pods")
    if choice not in ("delete", "export"):
        raise BadRequest("the field 'pods' must be 'delete' or 'export'")
    _confirm_password(account, _field(body, "password"))
    response = _delete_account(account, choice)
    if g.via_token:
        _pages().directory.revoke_token(g.token)
    return response


# -- shared actions ----------------------------------------------------------------------------
def _register(email: str, password: str, pod_name: str) -> Account:
    """Register, then (when asked) make the first pod; if the pod fails, the account goes too."""
    d = _pages().directory
    check_email(email)
    check_password(password)
    if pod_name and not _pages().single_pod:
        check_pod_name(pod_name.strip())
    account = d.register(email, password)
    if pod_name or (_pages().single_pod and not d.owners_of("/")):
        try:
            d.create_pod(account.id, pod_name)
        except PodError:
            d.delete_account(account.id, pods="delete")
            raise
    return d.get(account.id) or account


def _delete_account(account: Account, choice: str) -> Response:
    d = _pages().directory
    if choice == "export":
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
        d.delete_account(account.id, pods="export", export_to=spool)
        spool.seek(0)
        session.clear()
        stamp = time.strftime("%Y%m%d", time.gmtime())
        return send_file(
            spool,
            mimetype="application/zip",
            as_attachment=True,
            download_name=f"pods-{stamp}.zip",
        )
    d.delete_account(account.id, pods="delete")
    session.clear()
    if _is_api():
        return Response(status=204)
    return Response(render_template("accounts/deleted.html"), status=200)


# -- HTML pages --------------------------------------------------------------------------------
def _form(name: str) -> str:
    value = request.form.get(name, "")
    return value if isinstance(value, str) else ""


def _render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    return Response(
        render_template(template, **context), status=status, headers=headers, content_type="text/html"
    )


def _field_error(exc: PodError, field: str) -> tuple[dict[str, str], int, dict[str, str]]:
    return {field: exc.detail}, exc.status, exc.headers


@bp.route("/register", methods=["GET", "POST"])
def register_page() -> Response:
    if request.method == "GET":
        return _render("accounts/register.html", values={}, errors={})
    email, password, pod = _form("email"), _form("password"), _form("pod")
    values = {"email": email, "pod": pod}
    errors: dict[str, str] = {}
    for name, check in (("email", check_email), ("password", check_password)):
        try:
            check(email if name == "email" else password)
        except PodError as exc:
            errors[name] = exc.detail
    if pod and not _pages().single_pod:
        try:
            check_pod_name(pod.strip())
        except PodError as exc:
            errors["pod"] = exc.detail
    if errors:
        return _render("accounts/register.html", 400, values=values, errors=errors)
    try:
        account = _register(email, password, pod)
    except Conflict as exc:
        field = "pod" if "pod" in exc.detail else "email"
        return _render("accounts/register.html", 409, values=values, errors={field: exc.detail})
    except BadRequest as exc:
        return _render("accounts/register.html", 400, values=values, errors={"pod": exc.detail})
    _begin_session(account)
    return redirect(bp.url_prefix + "/", 303)  # type: ignore[return-value,operator]


@bp.route("/login", methods=["GET", "POST"])
def login_page() -> Response:
    return_to = _safe_return_to(request.values.get("return_to"))
    if request.method == "GET":
        return _render("accounts/login.html", values={}, errors={}, return_to=return_to)
    email = _form("email")
    values = {"email": email}
    try:
        account = _login(email, _form("password"))
    except TooManyAttempts as exc:
        return _render(
            "accounts/login.html",
            429,
            exc.headers,
            values=values,
            errors={"form": exc.detail},
            return_to=return_to,
        )
    except Forbidden as exc:
        return _render(
            "accounts/login.html", 403, values=values, errors={"form": exc.detail}, return_to=return_to
        )
    _begin_session(account)
    return redirect(return_to or bp.url_prefix + "/", 303)  # type: ignore[return-value,operator]


@bp.post("/logout")
def logout_page() -> Response:
    session.clear()
    return _render("accounts/logged_out.html")


@bp.get("/")
def account_page() -> Response:
    account = _require_account()
    return _account_page(account)


def _account_page(
    account: Account,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    new_credential: NewCredential | None = None,
    new_pod: Pod | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    d = _pages().directory
    account = d.get(account.id) or account
    return _render(
        "accounts/account.html",
        status,
        headers,
        account=account,
        pods=d.pods(account.id),
        webids=d.webids(account.id),
        credentials=d.credentials(account.id),
        challenges=d.challenges(account.id),
        errors=errors or {},
        values=values or {},
        notice=notice,
        new_credential=new_credential,
        new_pod=new_pod,
    )


@bp.post("/pods")
def create_pod_page() -> Response:
    account = _require_account()
    name = _form("name")
    try:
        pod = _pages().directory.create_pod(account.id, name)
    except (BadRequest, Conflict) as exc:
        return _account_page(account, exc.status, errors={"pod": exc.detail}, values={"pod": name})
    return _account_page(account, 201, new_pod=pod, notice=f"Your pod {pod.url} is ready.")


@bp.post("/credentials")
def create_credential_page() -> Response:
    account = _require_account()
    webid, name = _form("webid"), _form("name")
    try:
        created = _pages().directory.create_credential(account.id, webid, name)
    except BadRequest as exc:
        return _account_page(
            account, 400, errors={"credential": exc.detail}, values={"credential_name": name}
        )
    return _account_page(account, 201, new_credential=created)


@bp.post("/credentials/<client_id>/revoke")
def revoke_credential_page(client_id: str) -> Response:
    account = _require_account()
    try:
        _pages().directory.revoke_credential(account.id, client_id)
    except NotFound as exc:
        return _account_page(account, 404, errors={"revoke": exc.detail})
    return _account_page(account, notice=f"The client credential {client_id} was revoked.")


@bp.post("/webids")
def link_webid_page() -> Response:
    account = _require_account()
    webid = _form("webid")
    try:
        challenge = _pages().directory.start_webid_link(account.id, webid)
    except (BadRequest, Conflict) as exc:
        return _account_page(account, exc.status, errors={"webid": exc.detail}, values={"webid": webid})
    return _account_page(
        account, 201, notice=f"Now prove that you control {challenge.webid}: see the steps under WebIDs."
    )


@bp.post("/webids/verify")
def verify_webid_page() -> Response:
    account = _require_account()
    webid = _form("webid")
    try:
        linked = _pages().directory.verify_webid(account.id, webid)
    except (BadRequest, Forbidden, NotFound, Conflict) as exc:
        return _account_page(account, exc.status, errors={"verify": exc.detail})
    return _account_page(account, notice=f"{linked.webid} is now linked to your account.")


@bp.route("/password", methods=["GET", "POST"])
def password_page() -> Response:
    account = _require_account()
    if request.method == "GET":
        return _render("accounts/password.html", errors={})
    current, new = _form("current_password"), _form("new_password")
    try:
        check_password(new)
    except BadRequest as exc:
        return _render("accounts/password.html", 400, errors={"new_password": exc.detail})
    try:
        _confirm_password(account, current)
    except (Forbidden, TooManyAttempts) as exc:
        errors, status, headers = _field_error(exc, "current_password")
        if isinstance(exc, Forbidden):
            errors = {"current_password": "the current password is wrong"}
        return _render("accounts/password.html", status, headers, errors=errors)
    _pages().directory.change_password(account.id, current, new)
    return _account_page(account, notice="Your password was changed.")


@bp.route("/delete", methods=["GET", "POST"])
def delete_page() -> Response:
    account = _require_account()
    pods = _pages().directory.pods(account.id)
    if request.method == "GET":
        return _render("accounts/delete.html", errors={}, pods=pods, choice="")
    choice = _form("pods")
    errors: dict[str, str] = {}
    if choice not in ("delete", "export"):
        errors["pods"] = "choose whether to download your pods first or delete them"
    else:
        try:
            _confirm_password(account, _form("password"))
        except (Forbidden, TooManyAttempts) as exc:
            errors, status, headers = _field_error(exc, "password")
            return _render("accounts/delete.html", status, headers, errors=errors, pods=pods, choice=choice)
    if errors:
        return _render("accounts/delete.html", 400, errors=errors, pods=pods, choice=choice)
    return _delete_account(account, choice)


# -- wiring ------------------------------------------------------------------------------------
def init_app(app: Flask, pages: AccountPages) -> None:
    app.extensions["pod_server.account_pages"] = pages
    # Session cookies: not readable by scripts, not sent on cross-site subrequests, and only over
    # TLS when the server is served over https (RFC 6265bis §8.8, §4.1.2.5).
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=pages.base_url.startswith("https:"),
    )
    app.register_blueprint(bp)


__all__ = ["SESSION_KEY", "AccountPages", "bp", "init_app"]
