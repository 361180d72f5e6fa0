"""The account service over the server database: accounts, pods, WebIDs, client credentials.

:class:`SqlAccountDirectory` implements :class:`~pod_server.accounts.directory.AccountDirectory`
(what the identity provider asks) and everything the account pages, the JSON API and the CLI do.
It takes plain values and raises only :mod:`pod_server.errors` (the database translates its own).

Writes that span the database and the pod storage keep one order so a failure leaves nothing
half-made: a new pod is claimed in the database first, then written, and released again if the
writing fails; an account's pods are exported or emptied before its rows are deleted.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Literal

from sqlalchemy import Connection, and_, delete, insert, select, update

from pod_server.accounts import tables as t
from pod_server.accounts.directory import Account, ClientCredential
from pod_server.accounts.export import delete_pod_contents, export_pods
from pod_server.accounts.hashing import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Passwords,
    digest,
    new_client_id,
    new_token,
    same_digest,
)
from pod_server.accounts.pods import PodLayout, check_pod_name, pod_documents
from pod_server.accounts.webid_proof import WebIdVerifier, check_webid, through, verification_triple
from pod_server.db import Database
from pod_server.errors import BadRequest, Conflict, Forbidden, NotFound, PodError
from pod_server.fetch import SafeFetcher
from pod_server.rdf import formats
from pod_server.store.resource_store import ResourceStore

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3, as a path
TOKEN_LIFETIME = 30 * 24 * 3600.0
CHALLENGE_LIFETIME = 24 * 3600.0
MAX_NAME_LENGTH = 200

PodChoice = Literal["delete", "export"]


@dataclass(frozen=True, slots=True)
class Pod:
    name: str
    path: str
    url: str
    webid: str


@dataclass(frozen=True, slots=True)
class WebId:
    webid: str
    kind: str  # "own" (a pod's profile here) or "external" (hosted elsewhere, proven)
    verified: bool


@dataclass(frozen=True, slots=True)
class NewCredential:
    """Returned once at creation: the secret is not stored and cannot be shown again."""

    client_id: str
    client_secret: str
    webid: str
    name: str
    issuer: str


@dataclass(frozen=True, slots=True)
class Challenge:
    webid: str
    code: str
    triple: str
    issuer: str


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL.match(email):
        raise BadRequest(f"enter an email address such as name@example.org; got {email[:80]!r}")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"choose a password of at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(f"choose a password of at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 0x20 for c in name):
        raise BadRequest(f"a name is at most {MAX_NAME_LENGTH} printable characters")
    return name


class SqlAccountDirectory:
    """Accounts in the server database; pods written through the ResourceStore."""

    def __init__(
        self,
        db: Database,
        store: ResourceStore,
        *,
        issuer: str,
        passwords: Passwords | None = None,
        verifier: WebIdVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.store = store
        self.ids = store.ids
        self.issuer = issuer
        self.passwords = passwords or Passwords()
        self.verifier = verifier or WebIdVerifier(issuer, through(SafeFetcher()))
        self.clock = clock

    # -- AccountDirectory ------------------------------------------------------------------
    def authenticate(self, email: str, password: str) -> Account | None:
        with self.db.connect() as conn:
            row = conn.execute(
                select(t.accounts.c.id, t.accounts.c.password_hash).where(
                    t.accounts.c.email_key == email.strip().lower()
                )
            ).first()
        stored = row.password_hash if row else None
        if not self.passwords.verify(stored, password[:MAX_PASSWORD_LENGTH]) or row is None:
            return None
        if self.passwords.needs_rehash(row.password_hash):
            with self.db.begin() as conn:
                conn.execute(
                    update(t.accounts)
                    .where(t.accounts.c.id == row.id)
                    .values(password_hash=self.passwords.hash(password))
                )
        return self.get(row.id)

    def get(self, account_id: str) -> Account | None:
        with self.db.connect() as conn:
            return self._account(conn, t.accounts.c.id == account_id)

    def check_client_secret(self, client_id: str, client_secret: str) -> ClientCredential | None:
        with self.db.connect() as conn:
            row = conn.execute(
                select(t.client_credentials).where(t.client_credentials.c.client_id == client_id)
            ).first()
        if row is None:
            same_digest(digest(""), client_secret)  # same work either way
            return None
        if not same_digest(row.secret_hash, client_secret):
            return None
        return ClientCredential(row.client_id, row.webid, row.account_id, row.name)

    # -- accounts --------------------------------------------------------------------------
    def _account(self, conn: Connection, where: object) -> Account | None:
        row = conn.execute(select(t.accounts.c.id, t.accounts.c.email).where(where)).first()  # type: ignore[arg-type]
        if row is None:
            return None
        webids = conn.execute(
            select(t.webids.c.webid)
            .where(and_(t.webids.c.account_id == row.id, t.webids.c.verified.is_(True)))
            .order_by(t.webids.c.created, t.webids.c.webid)
        ).scalars()
        return Account(row.id, row.email, tuple(webids))

    def find(self, email: str) -> Account | None:
        with self.db.connect() as conn:
            return self._account(conn, t.accounts.c.email_key == email.strip().lower())

    def require(self, email: str) -> Account:
        found = self.find(email)
        if found is None:
            raise NotFound(f"there is no account with the email {email.strip()!r}")
        return found

    def register(self, email: str, password: str) -> Account:
        email = check_email(email)
        check_password(password)
        account = Account(uuid.uuid4().hex, email)
        password_hash = self.passwords.hash(password)
        try:
            with self.db.begin() as conn:
                conn.execute(
                    insert(t.accounts).values(
                        id=account.id,
                        email=email,
                        email_key=email.lower(),
                        password_hash=password_hash,
                        created=self.clock(),
                    )
                )
        except Conflict:
            raise Conflict(f"an account with the email {email!r} already exists; log in instead") from None
        return account

    def all_accounts(self) -> list[Account]:
        with self.db.connect() as conn:
            ids = (
                conn.execute(select(t.accounts.c.id).order_by(t.accounts.c.created, t.accounts.c.id))
                .scalars()
                .all()
            )
            found = [self._account(conn, t.accounts.c.id == i) for i in ids]
        return [a for a in found if a is not None]

    def count(self) -> int:
        with self.db.connect() as conn:
            return len(conn.execute(select(t.accounts.c.id).limit(1)).all())

    def change_password(self, account_id: str, current: str | None, new: str) -> None:
        """Set a new password; ``current`` must be right unless it is ``None`` (operators)."""
        check_password(new)
        with self.db.connect() as conn:
            stored = conn.execute(
                select(t.accounts.c.password_hash).where(t.accounts.c.id == account_id)
            ).scalar_one_or_none()
        if stored is None:
            raise NotFound("the account does not exist")
        if current is not None and not self.passwords.verify(stored, current[:MAX_PASSWORD_LENGTH]):
            raise Forbidden("the current password is wrong")
        with self.db.begin() as conn:
            conn.execute(
                update(t.accounts)
                .where(t.accounts.c.id == account_id)
                .values(password_hash=self.passwords.hash(new))
            )
            # Bearer tokens issued with the old password stop working.
            conn.execute(delete(t.account_tokens).where(t.account_tokens.c.account_id == account_id))

    def delete_account(self, account_id: str, *, pods: PodChoice, export_to: IO[bytes] | None = None) -> None:
        """Delete the account and its pods; with ``pods="export"``, first write them as one zip to
        ``export_to``. If the export or a deletion fails, the account stays (retry is safe)."""
        if pods not in ("delete", "export"):
            raise BadRequest("choose what happens to the pods: 'delete' or 'export'")
        if self.get(account_id) is None:
            raise NotFound("the account does not exist")
        owned = self.pods(account_id)
        if pods == "export":
            if export_to is None:
                raise BadRequest("an export needs somewhere to write the archive")
            self.export(owned, export_to)
        for pod in owned:
            delete_pod_contents(self.store, pod.path)
            if pod.path != "/":
                with contextlib.suppress(NotFound):
                    self.store.delete_storage_root(pod.path)
        with self.db.begin() as conn:
            conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))

    def export(self, owned: Iterable[Pod], target: IO[bytes]) -> None:
        """All ``owned`` pods in one zip, each under a folder named after it (see export)."""
        export_pods(self.store, [(p.path, f"{p.name}/" if p.name else "") for p in owned], target)

    # -- pods ------------------------------------------------------------------------------
    def _pod_path(self, name: str) -> tuple[str, str]:
        if self.ids.single_pod:
            return "", "/"
        name = check_pod_name(name.strip())
        return name, f"/{name}/"

    def create_pod(self, account_id: str, name: str) -> Pod:
        """Make a pod and its WebID. In single-pod mode the pod is the server root (``name`` unused)."""
        name, path = self._pod_path(name)
        url = self.ids.to_url(path)
        layout = PodLayout(url)
        now = self.clock()
        try:
            with self.db.begin() as conn:
                if conn.execute(select(t.accounts.c.id).where(t.accounts.c.id == account_id)).first() is None:
                    raise NotFound("the account does not exist")
                conn.execute(
                    insert(t.pods).values(
                        path=path, name=name, account_id=account_id, webid=layout.webid, created=now
                    )
                )
                conn.execute(
                    insert(t.webids).values(
                        webid=layout.webid, account_id=account_id, kind="own", verified=True, created=now
                    )
                )
        except Conflict:
            raise Conflict(f"the pod {url} already exists; choose another name") from None
        try:
            self._write_pod(path, layout)
        except BaseException:
            with self.db.begin() as conn:
                conn.execute(delete(t.webids).where(t.webids.c.webid == layout.webid))
                conn.execute(delete(t.pods).where(t.pods.c.path == path))
            raise
        return Pod(name, path, url, layout.webid)

    def _write_pod(self, path: str, layout: PodLayout) -> None:
        written: list[str] = []
        probe = path + "profile/card" if path == "/" else path
        try:
            self.store.stat(probe)
        except NotFound:
            pass
        else:
            raise Conflict(f"{self.ids.to_url(probe)} already exists; choose another pod name")
        try:
            if path != "/":
                self.store.put(path, b"", formats.TURTLE, layout.pod)
                written.append(path)
            for document in pod_documents(layout, self.issuer):
                target = path + document.relative
                self.store.put(target, document.turtle, formats.TURTLE, self.ids.to_url(target))
                written.append(target)
        except BaseException:
            self._undo(path, written)
            raise

    def _undo(self, root: str, written: list[str]) -> None:
        try:
            for target in reversed(written):
                if target == root:
                    self.store.delete_storage_root(root)
                    continue
                with contextlib.suppress(NotFound):
                    self.store.delete(target)
            for folder in ("settings/", "profile/"):
                with contextlib.suppress(NotFound, Conflict):
                    self.store.delete(root + folder)
        except PodError:
            log.exception("could not undo a half-made pod at %s", root)

    def remove_pod(self, pod: Pod) -> None:
        """Undo :meth:`create_pod`: the pod's contents, its storage root, its WebID and its row
        (rows go even when removing contents fails, so the name is free again)."""
        try:
            delete_pod_contents(self.store, pod.path)
            if pod.path != "/":
                with contextlib.suppress(NotFound):
                    self.store.delete_storage_root(pod.path)
        finally:
            with self.db.begin() as conn:
                conn.execute(delete(t.webids).where(t.webids.c.webid == pod.webid))
                conn.execute(delete(t.pods).where(t.pods.c.path == pod.path))

    def pods(self, account_id: str) -> list[Pod]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.pods)
                .where(t.pods.c.account_id == account_id)
                .order_by(t.pods.c.created, t.pods.c.path)
            ).all()
        return [Pod(r.name, r.path, self.ids.to_url(r.path), r.webid) for r in rows]

    def owners_of(self, root_path: str) -> tuple[str, ...]:
        """:class:`~pod_server.ldp.owners.OwnerLookup`: the WebID of the pod at ``root_path``."""
        with self.db.connect() as conn:
            return tuple(conn.execute(select(t.pods.c.webid).where(t.pods.c.path == root_path)).scalars())

    # -- WebIDs ----------------------------------------------------------------------------
    def account_of(self, webid: str) -> str | None:
        """The id of the account that may log in as ``webid`` (its own or a verified one), or None."""
        with self.db.connect() as conn:
            found = conn.execute(
                select(t.webids.c.account_id).where(t.webids.c.webid == webid, t.webids.c.verified.is_(True))
            ).scalar()
        return None if found is None else str(found)

    def webids(self, account_id: str) -> list[WebId]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.webids).where(t.webids.c.account_id == account_id).order_by(t.webids.c.created)
            ).all()
        return [WebId(r.webid, r.kind, bool(r.verified)) for r in rows]

    def challenges(self, account_id: str) -> list[Challenge]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.webid_challenges).where(
                    and_(
                        t.webid_challenges.c.account_id == account_id,
                        t.webid_challenges.c.expires > self.clock(),
                    )
                )
            ).all()
        return [Challenge(r.webid, r.code, verification_triple(r.webid, r.code), self.issuer) for r in rows]

    def start_webid_link(self, account_id: str, webid: str) -> Challenge:
        """A verification code for an external WebID; valid for a day, replaced by a new one."""
        webid = check_webid(webid.strip())
        now = self.clock()
        with self.db.begin() as conn:
            owner = conn.execute(select(t.webids.c.account_id).where(t.webids.c.webid == webid)).scalar()
            if owner is not None:
                raise Conflict(
                    "this WebID is already linked to "
                    + ("your account" if owner == account_id else "another account")
                )
            conn.execute(delete(t.webid_challenges).where(t.webid_challenges.c.expires <= now))
            conn.execute(
                delete(t.webid_challenges).where(
                    and_(t.webid_challenges.c.account_id == account_id, t.webid_challenges.c.webid == webid)
                )
            )
            code = new_token(18)
            conn.execute(
                insert(t.webid_challenges).values(
                    account_id=account_id, webid=webid, code=code, expires=now + CHALLENGE_LIFETIME
                )
            )
        return Challenge(webid, code, verification_triple(webid, code), self.issuer)

    def verify_webid(self, account_id: str, webid: str) -> WebId:
        """Link ``webid`` to the account once its document proves control (see webid_proof)."""
        webid = check_webid(webid.strip())
        with self.db.connect() as conn:
            code = conn.execute(
                select(t.webid_challenges.c.code).where(
                    and_(
                        t.webid_challenges.c.account_id == account_id,
                        t.webid_challenges.c.webid == webid,
                        t.webid_challenges.c.expires > self.clock(),
                    )
                )
            ).scalar()
        if code is None:
            raise NotFound(f"no pending link for {webid}; start linking it first to get a verification code")
        self.verifier.proof(webid, code)
        try:
            with self.db.begin() as conn:
                conn.execute(
                    insert(t.webids).values(
                        webid=webid,
                        account_id=account_id,
                        kind="external",
                        verified=True,
                        created=self.clock(),
                    )
                )
                conn.execute(
                    delete(t.webid_challenges).where(
                        and_(
                            t.webid_challenges.c.account_id == account_id, t.webid_challenges.c.webid == webid
                        )
                    )
                )
        except Conflict:
            raise Conflict("this WebID is already linked to an account") from None
        return WebId(webid, "external", True)

    # -- client credentials ----------------------------------------------------------------
    def create_credential(self, account_id: str, webid: str, name: str = "") -> NewCredential:
        name = _name(name)
        webid = webid.strip()
        with self.db.begin() as conn:
            owned = conn.execute(
                select(t.webids.c.webid).where(
                    and_(
                        t.webids.c.account_id == account_id,
                        t.webids.c.webid == webid,
                        t.webids.c.verified.is_(True),
                    )
                )
            ).first()
            if owned is None:
                raise BadRequest(
                    f"{webid!r} is not one of this account's WebIDs; use one listed on the account"
                )
            client_id, secret = new_client_id(), new_token(32)
            conn.execute(
                insert(t.client_credentials).values(
                    client_id=client_id,
                    secret_hash=digest(secret),
                    webid=webid,
                    account_id=account_id,
                    name=name,
                    created=self.clock(),
                )
            )
        return NewCredential(client_id, secret, webid, name, self.issuer)

    def credentials(self, account_id: str) -> list[ClientCredential]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.client_credentials)
                .where(t.client_credentials.c.account_id == account_id)
                .order_by(t.client_credentials.c.created)
            ).all()
        return [ClientCredential(r.client_id, r.webid, r.account_id, r.name) for r in rows]

    def revoke_credential(self, account_id: str, client_id: str) -> None:
        with self.db.begin() as conn:
            gone = conn.execute(
                delete(t.client_credentials).where(
                    and_(
                        t.client_credentials.c.client_id == client_id,
                        t.client_credentials.c.account_id == account_id,
                    )
                )
            ).rowcount
        if not gone:
            raise NotFound(f"this account has no client credential {client_id!r}")

    # -- account tokens (JSON API) ---------------------------------------------------------
    def issue_token(self, account_id: str) -> str:
        token = new_token(32)
        now = self.clock()
        with self.db.begin() as conn:
            conn.execute(delete(t.account_tokens).where(t.account_tokens.c.expires <= now))
            conn.execute(
                insert(t.account_tokens).values(
                    token_hash=digest(token), account_id=account_id, created=now, expires=now + TOKEN_LIFETIME
                )
            )
        return token

    def account_for_token(self, token: str) -> Account | None:
        with self.db.connect() as conn:
            account_id = conn.execute(
                select(t.account_tokens.c.account_id).where(
                    and_(
                        t.account_tokens.c.token_hash == digest(token),
                        t.account_tokens.c.expires > self.clock(),
                    )
                )
            ).scalar()
            return None if account_id is None else self._account(conn, t.accounts.c.id == account_id)

    def revoke_token(self, token: str) -> None:
        with self.db.begin() as conn:
            conn.execute(delete(t.account_tokens).where(t.account_tokens.c.token_hash == digest(token)))


__all__ = [
    "Challenge",
    "NewCredential",
    "Pod",
    "PodChoice",
    "SqlAccountDirectory",
    "WebId",
    "check_email",
    "check_password",
]
