"""The pages. Each reads the community as the visitor (their login, or the public) and renders
what it may see; data that is missing or malformed becomes a message on the page, never a 500.

Routes: ``/`` home, ``/members``, ``/contributions``, ``/credit``, ``/proposals``; ``/login``,
``/callback``, ``/logout``; ``/client-id`` (the Client ID Document, Solid-OIDC §5.1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from pod_client.errors import NotAuthenticated
from pod_client.session import Session
from werkzeug.wrappers.response import Response as BaseResponse

from community_app.community import Profile, display_name, read_profile, read_roster
from community_app.config import AppConfig
from community_app.contributions import read_contributions, read_ledger
from community_app.credit import read_credit
from community_app.fetch import GuardedHTTP, Reader, ReadError
from community_app.oidc import (
    LoginError,
    check_issuer,
    client_id_document,
    find_issuers,
    finish_login,
    start_login,
)
from community_app.proposals import read_proposals
from community_app.rdf import instant
from community_app.sessions import PendingLogin, SessionStore, Visit

bp = Blueprint("community", __name__)
log = logging.getLogger(__name__)

SID = "sid"
PAGES = (
    "community.home",
    "community.members",
    "community.contributions",
    "community.credit",
    "community.proposals",
)


@dataclass(frozen=True)
class AppState:
    config: AppConfig
    store: SessionStore


def _state() -> AppState:
    found: AppState = current_app.extensions["community_app"]
    return found


def _guarded() -> GuardedHTTP:
    config = _state().config
    return GuardedHTTP(config.trusted_hosts, allow_private=config.allow_private)


# -- who is visiting -------------------------------------------------------------------------------
@bp.before_app_request
def _identify() -> None:
    sid = session.get(SID)
    g.visit = _state().store.get(sid) if isinstance(sid, str) else None
    g.anonymous = None


@bp.teardown_app_request
def _close(_: BaseException | None) -> None:
    anonymous = g.pop("anonymous", None)
    if anonymous is not None:
        anonymous.close()


def _visit() -> Visit | None:
    visit: Visit | None = g.visit
    return visit


def _anonymous() -> Session:
    if g.anonymous is None:
        g.anonymous = Session(http=_guarded())
    session_: Session = g.anonymous
    return session_


def _reader(*, public: bool = False) -> Reader:
    """A reader as the visitor: their login, or the public (``public``: always the public)."""
    config = _state().config
    visit = _visit()
    login = visit.login if visit is not None and not public else None
    return Reader(login or _anonymous(), timeout=config.timeout, max_bytes=config.max_bytes)


@bp.app_context_processor
def _context() -> dict[str, Any]:
    visit = _visit()
    return {
        "app_name": _state().config.app_name,
        "webid": visit.login.webid if visit is not None and visit.login is not None else None,
        "fmt": _fmt,
        "when": _when,
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def _when(value: str | datetime | None) -> str:
    """An xsd:dateTime (or a datetime) as ``2026-11-03 16:00 UTC``; anything else as it is."""
    moment = value if isinstance(value, datetime) else instant(value)
    if moment is None:
        return str(value or "-")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _names(reader: Reader, webids: Iterable[str | None], limit: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for webid in list(dict.fromkeys(w for w in webids if w))[:limit]:
        name = display_name(reader, webid)
        if name:
            found[webid] = name
    return found


def _community_page(template: str, build: Callable[[Reader, Profile], dict[str, Any]]) -> BaseResponse:
    """Read the profile, then the page's data; an unreadable profile is a 502 page with the reason."""
    reader = _reader()
    try:
        profile = read_profile(reader, _state().config.community)
    except ReadError as exc:
        return _page("unavailable.html", 502, reason=exc.message, community=_state().config.community)
    return _page(template, profile=profile, **build(reader, profile))


@bp.errorhandler(NotAuthenticated)
def _login_ended(_: NotAuthenticated) -> BaseResponse:
    """The provider ended the login (refresh refused): forget it and show the page as the public."""
    visit = _visit()
    if visit is not None:
        visit.login = None
    flash("Your login has ended; log in again to see what members see.")
    return redirect(request.path if request.endpoint in PAGES else url_for("community.home"), 303)


# -- pages -----------------------------------------------------------------------------------------
@bp.get("/")
def home() -> BaseResponse:
    return _community_page("home.html", lambda reader, profile: {})


@bp.get("/members")
def members() -> BaseResponse:
    limit = _state().config.max_items
    return _community_page(
        "members.html", lambda reader, profile: {"roster": read_roster(reader, profile, limit)}
    )


@bp.get("/contributions")
def contributions() -> BaseResponse:
    limit = _state().config.max_items

    def build(reader: Reader, profile: Profile) -> dict[str, Any]:
        ledger = read_ledger(reader, profile, limit)
        found, problems = read_contributions(reader, profile, ledger, limit)
        reviewers = [c.acknowledgement.reviewer for c in found if c.acknowledgement]
        people = [c.provider for c in found] + reviewers
        return {
            "contributions": found,
            "problems": problems + ledger.problems,
            "names": _names(reader, people, limit),
        }

    return _community_page("contributions.html", build)


@bp.get("/credit")
def credit() -> BaseResponse:
    limit = _state().config.max_items

    def build(reader: Reader, profile: Profile) -> dict[str, Any]:
        view = read_credit(reader, profile)
        receivers = [t.receiver for t in view.report.totals] if view.report else []
        return {"view": view, "names": _names(reader, receivers, limit)}

    return _community_page("credit.html", build)


@bp.get("/proposals")
def proposals() -> BaseResponse:
    limit = _state().config.max_items

    def build(reader: Reader, profile: Profile) -> dict[str, Any]:
        found = read_proposals(reader, profile, limit=limit)
        people = [m.creator for m in found.open] + [b.voter for m in found.open for b in m.ballots]
        return {"proposals": found, "names": _names(reader, people, limit)}

    return _community_page("proposals.html", build)


# -- logging in (Solid-OIDC) -----------------------------------------------------------------------
@bp.get("/client-id")
def client_id() -> Response:
    """Solid-OIDC §5.1: the Client ID Document, JSON-LD at the client_id URL."""
    response = jsonify(client_id_document(_state().config))
    response.mimetype = "application/ld+json"
    response.headers["Cache-Control"] = "max-age=300"
    return response


def _return_to(value: str | None) -> str:
    """Only this app's own pages (no open redirect)."""
    allowed = {url_for(p) for p in PAGES}
    return value if value in allowed else url_for("community.home")


def _ensure_visit() -> Visit:
    visit = _visit()
    if visit is None:
        visit = _state().store.create()
        session[SID] = visit.sid
        g.visit = visit
    return visit


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    next_page = _return_to(request.values.get("next"))
    if request.method == "GET":
        return _page("login.html", next_page=next_page, typed="", issuers=(), error=None)
    typed, chosen = request.form.get("webid", ""), request.form.get("issuer", "")
    try:
        if chosen:
            issuer = chosen
        else:
            found = find_issuers(_reader(public=True), typed)
            if len(found.issuers) > 1:
                return _page(
                    "login.html", next_page=next_page, typed=typed, issuers=found.issuers, error=None
                )
            issuer = found.issuers[0]
        return _start_login(issuer, next_page)
    except LoginError as exc:
        return _page("login.html", 400, next_page=next_page, typed=typed, issuers=(), error=exc.message)


def _start_login(issuer: str, next_page: str) -> BaseResponse:
    config = _state().config
    pending_session = Session(issuer=issuer, client_id=config.client_id, http=_guarded())
    url, login = start_login(pending_session, config.redirect_uri)
    now = time.time()
    _ensure_visit().add_pending(PendingLogin(login, pending_session, next_page, now), now)
    return redirect(url, 303)


@bp.get("/callback")
def callback() -> BaseResponse:
    """The provider's answer (RFC 6749 §4.1.2). The state must belong to a login this browser
    started (§10.12); the code is exchanged at once and never stored or logged."""
    visit = _visit()
    state = request.args.get("state", "")
    pending = visit.take_pending(state, time.time()) if visit is not None else None
    if visit is None or pending is None:
        return _page(
            "login.html",
            400,
            next_page=url_for("community.home"),
            typed="",
            issuers=(),
            error="This login answer does not belong to a login started in this browser (or it took "
            "longer than ten minutes). Start the login again.",
        )
    login_session = pending.session
    try:
        finish_login(login_session, request.args.to_dict(), pending.login)
        assert login_session.webid is not None and login_session.issuer is not None
        check_issuer(_reader(public=True), login_session.webid, login_session.issuer)
    except LoginError as exc:
        login_session.close()
        return _page("login.html", 400, next_page=pending.return_to, typed="", issuers=(), error=exc.message)
    if visit.login is not None:
        visit.login.close()
    visit.login = login_session
    fresh = _state().store.rotate(visit)  # a new id after logging in: no session fixation
    session[SID] = fresh.sid
    log.info("logged in: %s", login_session.webid)
    return redirect(pending.return_to, 303)


@bp.post("/logout")
def logout() -> BaseResponse:
    """Revoke the refresh token where the provider allows (pod_client does it), forget the visit."""
    visit = _visit()
    if visit is not None:
        if visit.login is not None:
            visit.login.logout()
            visit.login.close()
        _state().store.delete(visit.sid)
    session.clear()
    flash("You are logged out of this app.")
    return redirect(url_for("community.home"), 303)


__all__ = ["AppState", "bp"]
