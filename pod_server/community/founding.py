"""Founding a community: ``POST {base}.communities`` (model §3 and §5).

The request is checked first (who asks, the fields); then the accounts service makes an ordinary
pod under the founder's account, the community layout (:mod:`pod_server.community.layout`) is
written over it, the founder's community half is written with the roles member and admin, and
the groups are derived. If any step fails, everything written is removed again, the pod and its
WebID included, and the name is free for another try: a refused request changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pod_server.access.credentials import Credentials
from pod_server.accounts.pods import check_pod_name
from pod_server.accounts.service import Pod
from pod_server.community import fields, layout
from pod_server.community.model import ADMIN, MEMBER, Community
from pod_server.community.roster import check_member_half
from pod_server.community.service import CommunityService
from pod_server.errors import BadRequest, Forbidden, NotFound, PodError, Unauthorized, UnprocessableContent
from pod_server.rdf import formats

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_TEXT = 2000


class LocalAccounts(Protocol):
    """What founding needs from the accounts service."""

    def account_of(self, webid: str) -> str | None:
        """The id of the local account that may log in as ``webid`` (verified), or ``None``."""
        ...

    def create_pod(self, account_id: str, name: str) -> Pod:
        """A new pod and its WebID under the account (409 when the name is taken)."""
        ...

    def remove_pod(self, pod: Pod) -> None:
        """Undo :meth:`create_pod`: the pod's contents, its root and its rows."""
        ...


def parse(founder: str, body: dict[str, Any]) -> tuple[layout.Founding, str | None]:
    """The checked founding fields, and the founder's member half node (if given)."""
    fields.only(body, {"name", "title", "description", "mission", "homepage", "links", "membership"})
    name = fields.text(body, "name", required=True, max_length=63)
    title = fields.text(body, "title", required=True, max_length=MAX_TITLE)
    assert name is not None and title is not None  # required fields raise when missing
    founding = layout.Founding(
        name=check_pod_name(name),
        title=title,
        founder=founder,
        description=fields.text(body, "description", max_length=MAX_TEXT),
        mission=fields.text(body, "mission", max_length=MAX_TEXT),
        homepage=fields.iri(body, "homepage"),
        links=fields.iri_list(body, "links"),
    )
    return founding, fields.iri(body, "membership")


def create(
    svc: CommunityService, accounts: LocalAccounts, credentials: Credentials, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """``POST {base}.communities``: 201 ``{"community", "pod", "membership", "confirmed"}``.
    401 for the public, 403 for a WebID without a local account, 400 for bad fields, 404 in
    single-pod mode, 409 when the name is taken, 422 when the given member half does not agree."""
    if svc.ids.single_pod:
        raise NotFound("this server hosts a single pod; communities need a server in provider mode")
    if credentials.webid is None:
        raise Unauthorized("log in to create a community")
    founder = credentials.webid
    account = accounts.account_of(founder)
    if account is None:
        raise Forbidden(
            f"communities are founded by people with an account on this server; {founder} is not "
            "linked to one (register, or link this WebID to your account)"
        )
    founding, member_half = parse(founder, body)
    pod = accounts.create_pod(account, founding.name)
    c = Community.of(pod.path, pod.url)
    try:
        with svc.lock(c):
            for document in layout.documents(c, founding, svc.issuer, svc.clock()):
                target = c.path_of(document.relative)
                svc.store.put(target, document.turtle, formats.TURTLE, c.at(document.relative))
            roles = {c.role(MEMBER), c.role(ADMIN)}
            if member_half is not None:
                problem = check_member_half(svc.agent, c, founder, member_half)
                if problem is not None:
                    raise UnprocessableContent(problem)
            node = svc.admit(c, founder, roles, generated_by=c.founding, member_half=member_half)
            svc.derive_groups(c)
            member = svc.member(c, founder)
    except BaseException as exc:
        try:
            accounts.remove_pod(pod)
        except PodError:
            log.exception("could not remove the half-made community %s", pod.url)
        if isinstance(exc, PodError) and not isinstance(exc, BadRequest | Forbidden | UnprocessableContent):
            log.warning("founding %s failed: %s", pod.url, exc.detail)
        raise
    return 201, {
        "community": c.webid,
        "pod": c.url,
        "membership": node,
        "confirmed": bool(member and member.confirmed),
    }


__all__ = ["LocalAccounts", "create", "parse"]
