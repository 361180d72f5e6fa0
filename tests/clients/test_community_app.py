"""The example community app (clients/community_app) against a live pod-server.

The community's data is seeded directly as plain Solid resources, in the Turtle of
docs/community-model.md §3, §4, §6, §7, §8 (authenticated PUTs as the community and its members), so
these tests need none of the server's community endpoints. The browser test logs in through
pod-server's real login and consent pages; the HTTP tests feed the app bad data from a tiny server.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import community_app
import pytest
import requests
from community_app.config import AppConfig
from community_app.fetch import GuardedHTTP, Reader, ReadError
from flask import Flask
from flask.testing import FlaskClient
from pod_client.session import Session
from werkzeug.serving import BaseWSGIServer, make_server

from tests.browser import headless_chromium, wait_for
from tests.conftest import LiveServer, _serve
from tests.idp.helpers import csrf_of, hidden_fields

PASSWORD = "a long enough password"
PREFIXES = """
@prefix acl: <http://www.w3.org/ns/auth/acl#> .
@prefix as: <https://www.w3.org/ns/activitystreams#> .
@prefix cbpp: <https://w3id.org/pod-server/cbpp#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix kind: <https://w3id.org/pod-server/kinds#> .
@prefix ldp: <http://www.w3.org/ns/ldp#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
@prefix opengov: <http://www.w3.org/ns/opengov#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix pim: <http://www.w3.org/ns/pim/space#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix solid: <http://www.w3.org/ns/solid/terms#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def key(iri: str) -> str:
    """§3: the first 24 hex characters of sha256 of the IRI."""
    return hashlib.sha256(iri.encode()).hexdigest()[:24]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- a live pod-server with a community in it -----------------------------------------------------


@dataclass
class Person:
    email: str
    webid: str
    pod: str
    session: Session


@dataclass
class World:
    server: LiveServer
    c: str
    C: str
    alice: Person
    bob: Person
    carol: Person
    contributions: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The provider fetches the app's Client ID Document from 127.0.0.1.
    yield from _serve(
        tmp_path_factory.mktemp("community-app"), single_pod=False, fetch_allow_hosts=("127.0.0.1",)
    )


def _api(server: LiveServer, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.post(f"{server.url}.account/api/{path}", json=body, headers=headers, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


def register(server: LiveServer, name: str) -> tuple[str, str, str, str]:
    """Through the account API: ``(email, webid, pod, account token)``."""
    email = f"{name}{uuid.uuid4().hex[:6]}@example.org"
    account = _api(
        server, "accounts", {"email": email, "password": PASSWORD, "pod": name + uuid.uuid4().hex[:6]}
    )
    token = _api(server, "login", {"email": email, "password": PASSWORD})["token"]
    pod = account["pods"][0]
    return email, pod["webid"], pod["pod"], token


def session_as(server: LiveServer, token: str, webid: str) -> Session:
    made = _api(server, "credentials", {"webid": webid, "name": "seed"}, token)
    return Session.client_credentials(server.url, made["client_id"], made["client_secret"])


def put(session: Session, url: str, turtle: str) -> None:
    answer = session.request(
        "PUT", url, data=(PREFIXES + turtle).encode(), headers={"Content-Type": "text/turtle"}
    )
    assert answer.status_code in (201, 204, 205), (url, answer.status_code, answer.text)


def folder_acl(session: Session, container: str, turtle: str) -> None:
    """Make the container (PUT on a container URL creates it, Solid Protocol §5.3), then its ACL."""
    put(session, container, "")
    put(session, container + ".acl", turtle)


def acl(
    target: str,
    owner: str,
    *,
    public: bool = False,
    readers: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    append: bool = False,
) -> str:
    """A WAC document for ``target``: the owner's control, plus Read for the public / agents / groups."""
    inherit = f"acl:default <{target}> ;" if target.endswith("/") else ""
    extra = ", acl:Append" if append else ""
    on = f"acl:accessTo <{target}> ; {inherit}"
    full = "acl:Read, acl:Write, acl:Control"
    text = f"<#owner> a acl:Authorization ; acl:agent <{owner}> ; {on} acl:mode {full} .\n"
    if public:
        text += f"<#public> a acl:Authorization ; acl:agentClass foaf:Agent ; {on} acl:mode acl:Read .\n"
    if readers:
        agents = ", ".join(f"<{r}>" for r in readers)
        text += f"<#readers> a acl:Authorization ; acl:agent {agents} ; {on} acl:mode acl:Read .\n"
    if groups:
        names = ", ".join(f"<{g}>" for g in groups)
        text += f"<#groups> a acl:Authorization ; acl:agentGroup {names} ; {on} acl:mode acl:Read{extra} .\n"
    return text


def name_card(person: Person, name: str) -> None:
    card = person.webid.split("#")[0]
    current = person.session.request("GET", card, headers={"Accept": "text/turtle"})
    assert current.status_code == 200
    answer = person.session.request(
        "PUT",
        card,
        data=current.content + f'\n<{person.webid}> <http://xmlns.com/foaf/0.1/name> "{name}" .\n'.encode(),
        headers={"Content-Type": "text/turtle"},
    )
    assert answer.status_code in (201, 204, 205), answer.text


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    people = {}
    for name in ("alice", "bob", "carol"):
        email, webid, pod, token = register(server, name)
        people[name] = Person(email, webid, pod, session_as(server, token, webid))
        if name == "alice":
            founder_token = token
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    name_card(alice, "Alice Example")
    name_card(bob, "Bob Builder")
    # The community is a pod of the founder's account, acting as its own WebID C (§3).
    made = requests.post(
        f"{server.url}.account/api/pods",
        json={"name": "commons" + uuid.uuid4().hex[:6]},
        headers={"Authorization": f"Bearer {founder_token}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    c, C = made.json()["pod"], made.json()["webid"]
    cs = session_as(server, founder_token, C)
    world = World(server, c, C, alice, bob, carol)
    group = f"{c}groups/members#group"
    now = datetime.now(UTC)

    # §3 profile, roles, groups, root ACL.
    put(
        cs,
        f"{c}profile/card",
        f"""
<#me> a org:Organization, vf:Organization, as:Group, cbpp:Community, foaf:Organization ;
  foaf:name "Commons Test Community" ; dct:description "People who write free documentation." ;
  cbpp:mission "Make every manual readable by everyone." ;
  foaf:homepage <https://commons.example/> ;
  cbpp:memberGroup <{group}> ; cbpp:roleGroup <{c}groups/admin#group> ;
  cbpp:ledger <{c}ledger/> ; cbpp:proposals <{c}proposals/> ; cbpp:decisions <{c}decisions/> ;
  cbpp:contributions <{c}contributions/> ; cbpp:creditReports <{c}credit/> ;
  solid:oidcIssuer <{server.url}> ; pim:storage <{c}> .
""",
    )
    put(cs, f"{c}.acl", acl(c, C, groups=(group,)))
    put(
        cs,
        f"{c}roles",
        '<#admin> a org:Role ; rdfs:label "admin" . <#member> a org:Role ; rdfs:label "member" .',
    )
    folder_acl(cs, f"{c}groups/", acl(f"{c}groups/", C, public=True))
    put(
        cs,
        f"{c}groups/members",
        f"<#group> a vcard:Group ; vcard:hasMember <{alice.webid}>, <{bob.webid}> ;"
        f" prov:wasDerivedFrom <{c}members/> .",
    )
    put(cs, f"{c}groups/admin", f"<#group> a vcard:Group ; vcard:hasMember <{alice.webid}> .")
    for folder in ("members/", "ledger/", "credit/"):
        folder_acl(cs, f"{c}{folder}", acl(f"{c}{folder}", C, public=True))
    folder_acl(cs, f"{c}contributions/", acl(f"{c}contributions/", C, groups=(group,), append=True))

    # §4 memberships: alice (admin, confirmed), bob (confirmed), carol (invited only).
    for person, roles in (
        (alice, "<{c}roles#member>, <{c}roles#admin>"),
        (bob, "<{c}roles#member>"),
        (carol, "<{c}roles#member>"),
    ):
        half = f"{person.pod}memberships/{key(C)}"
        see_also = "" if person is carol else f"rdfs:seeAlso <{half}#membership> ;"
        put(
            cs,
            f"{c}members/{key(person.webid)}",
            f"""
<#membership> a org:Membership ; org:member <{person.webid}> ; org:organization <{C}> ;
  org:role {roles.format(c=c)} ; {see_also}
  org:memberDuring <#during> ; prov:wasGeneratedBy <#accept> .
<#during> a time:Interval ; time:hasBeginning [ a time:Instant ;
  time:inXSDDateTimeStamp "2026-01-0{3 if person is bob else 1}T10:00:00Z"^^xsd:dateTimeStamp ] .
""",
        )
        if person is not carol:
            put(
                person.session,
                half,
                f"""
<#membership> a org:Membership ; org:member <{person.webid}> ; org:organization <{C}> ;
  rdfs:seeAlso <{c}members/{key(person.webid)}#membership> .""",
            )
            put(person.session, half + ".acl", acl(half, person.webid, readers=(C,)))

    # §6 contributions: alice's public, bob's community-only, carol's private.
    def contribution(
        person: Person, slug: str, kind: str, hours: float, note: str, visibility: str, evidence: str = ""
    ) -> str:
        url = f"{person.pod}contributions/{slug}"
        put(
            person.session,
            url,
            f"""
<#it> a vf:EconomicEvent, cbpp:Contribution ; vf:action vf:work ;
  vf:provider <{person.webid}> ; vf:receiver <{C}> ; vf:resourceClassifiedAs kind:{kind} ;
  vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue {hours} ; vf:hasUnit om:hour ] ;
  vf:hasPointInTime "2026-11-0{slug[-1]}T16:00:00Z"^^xsd:dateTimeStamp ;
  {evidence} vf:note "{note}" ; cbpp:visibility cbpp:{visibility} .""",
        )
        if visibility == "Public":
            put(person.session, url + ".acl", acl(url, person.webid, public=True))
        elif visibility == "CommunityOnly":
            put(person.session, url + ".acl", acl(url, person.webid, readers=(C,), groups=(group,)))
        return url + "#it"

    c1 = contribution(
        alice,
        "c1",
        "documentation",
        3.5,
        "Rewrote the install guide",
        "Public",
        "dct:references <https://git.example/pull/42> ;",
    )
    c2 = contribution(bob, "c2", "care", 2, "Ran the onboarding call", "CommunityOnly")
    c3 = contribution(carol, "c3", "design", 1, "Sketched a secret logo", "Private")
    world.contributions = {"c1": c1, "c2": c2, "c3": c3}
    for slug, (actor, target) in {"a1": (alice, c1), "a2": (bob, c2), "a3": (carol, c3)}.items():
        put(
            cs,
            f"{c}contributions/{slug}",
            f"<> a as:Announce ; as:actor <{actor.webid}> ; as:object <{target}> .",
        )

    # §6 ledger: c2 rejected first, then accepted by a correcting entry; c1 accepted.
    def entry(
        slug: str, target: str, author: Person, reviewer: Person, verdict: str, day: int, corrects: str = ""
    ) -> None:
        put(
            cs,
            f"{c}ledger/{slug}",
            f"""
<#entry> a cbpp:Acknowledgement, as:{verdict} ; as:actor <{C}> ; as:object <{target}> ;
  cbpp:contributor <{author.webid}> ; prov:wasAssociatedWith <{reviewer.webid}> ;
  cbpp:objectDigest "sha256-AAAA" ; as:published "2026-11-{day:02d}T09:00:00Z"^^xsd:dateTime ;
  {corrects} as:summary "{verdict} by review" .""",
        )

    entry("e0", c2, bob, alice, "Reject", 10)
    entry("e1", c1, alice, bob, "Accept", 11)
    entry("e2", c2, bob, alice, "Accept", 12, f"vf:corrects <{c}ledger/e0#entry> ;")

    # §8 credit: an older report and the latest.
    def report(label: str, start: str, end: str, alice_amount: float, bob_amount: float) -> None:
        put(
            cs,
            f"{c}credit/{label}",
            f"""
<#report> a cbpp:CreditReport, prov:Entity ; cbpp:periodStart "{start}"^^xsd:dateTime ;
  cbpp:periodEnd "{end}"^^xsd:dateTime ; dct:conformsTo <{c}rules/value-1#rule> ;
  prov:wasGeneratedBy <#run> ; dct:created "{end}"^^xsd:dateTime .
<#run> a prov:Activity ; prov:used <{c}rules/value-1#rule>, <{c}ledger/e1#entry>, <{c}ledger/e2#entry> ;
  prov:wasAssociatedWith <{C}> ; prov:endedAtTime "{end}"^^xsd:dateTime .
<#claim-1> a vf:Claim ; vf:action vf:transfer ; vf:provider <{C}> ; vf:receiver <{alice.webid}> ;
  vf:triggeredBy <{c1}> ; prov:wasDerivedFrom <{c1}>, <{c}ledger/e1#entry> ;
  cbpp:hours 3.5 ; cbpp:kind kind:documentation ; cbpp:weight 1.0 ; cbpp:rate 10.0 ;
  vf:resourceQuantity [ a vf:Measure ; vf:hasNumericalValue {alice_amount} ;
    vf:hasUnit <{c}rules/value-1#credit> ] .
<#claim-2> a vf:Claim ; vf:action vf:transfer ; vf:provider <{C}> ; vf:receiver <{bob.webid}> ;
  vf:triggeredBy <{c2}> ; prov:wasDerivedFrom <{c2}>, <{c}ledger/e2#entry> ;
  cbpp:hours 2.0 ; cbpp:kind kind:care ; cbpp:weight 1.5 ; cbpp:rate 10.0 ;
  vf:resourceQuantity [ a vf:Measure ; vf:hasNumericalValue {bob_amount} ;
    vf:hasUnit <{c}rules/value-1#credit> ] .
<#total-1> a cbpp:CreditTotal ; vf:receiver <{alice.webid}> ; cbpp:uncappedAmount {alice_amount} ;
  cbpp:amount {alice_amount} ; prov:wasDerivedFrom <#claim-1> .
<#total-2> a cbpp:CreditTotal ; vf:receiver <{bob.webid}> ; cbpp:uncappedAmount {bob_amount} ;
  cbpp:amount {bob_amount} ; prov:wasDerivedFrom <#claim-2> .""",
        )

    report("2026-10", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", 7.25, 4.5)
    report("2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 35.0, 30.0)

    # §7: one open motion with alice's ballot recorded, one closed motion.
    folder_acl(cs, f"{c}proposals/", acl(f"{c}proposals/", C, groups=(group,)))
    ballot = f"{alice.pod}votes/{key(c + 'proposals/p1#event')}"
    put(
        alice.session,
        ballot,
        f"""
<#vote> a opengov:Vote ; opengov:voteEvent <{c}proposals/p1#event> ;
  schema:agent <{alice.webid}> ; schema:option "yes" .""",
    )
    put(alice.session, ballot + ".acl", acl(ballot, alice.webid, readers=(C,), groups=(group,)))

    def motion(slug: str, title: str, start: datetime, end: datetime, votes: str = "") -> None:
        put(
            cs,
            f"{c}proposals/{slug}",
            f"""
<#motion> a opengov:Motion ; dct:title "{title}" ; dct:creator <{alice.webid}> ;
  schema:publisher <{C}> ; dct:conformsTo <{c}governance/rules#default> ;
  dct:created "{stamp(start)}"^^xsd:dateTime ; cbpp:effect <#effect> .
<#effect> a cbpp:AdoptValueRule ; cbpp:rule <#rule> .
<#rule> a cbpp:ValueRule ; dct:title "Care counts" ; cbpp:creditPerHour 10.0 ;
  cbpp:kindWeight [ a cbpp:KindWeight ; cbpp:kind kind:care ; cbpp:weight 1.5 ] ;
  cbpp:capPerPeriod 40.0 ; cbpp:period "P1M"^^xsd:duration .
<#event> a opengov:VoteEvent ; opengov:motion <#motion> ;
  schema:startDate "{stamp(start)}"^^xsd:dateTime ; schema:endDate "{stamp(end)}"^^xsd:dateTime {votes} .""",
        )

    motion(
        "p1",
        "Weigh care work higher",
        now - timedelta(days=1),
        now + timedelta(days=6),
        f"; opengov:vote <{ballot}#vote>",
    )
    motion("p0", "An old question", now - timedelta(days=30), now - timedelta(days=23))
    return world


@dataclass
class RunningApp:
    url: str
    app: Flask


@pytest.fixture(scope="module")
def app_server(world: World) -> Iterator[RunningApp]:
    probe = make_server("127.0.0.1", 0, Flask("probe"))
    port = probe.server_port
    probe.server_close()
    app = community_app.create_app(
        AppConfig(community=world.c, base_url=f"http://127.0.0.1:{port}/", app_name="Commons app")
    )
    running: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningApp(f"http://127.0.0.1:{port}/", app)
    finally:
        running.shutdown()
        running.server_close()
        thread.join(5)


# -- the app in headless Chromium -------------------------------------------------------------------


@pytest.fixture
def driver() -> Iterator[Any]:
    yield from headless_chromium()


def test_the_public_then_a_member_in_chromium(world: World, app_server: RunningApp, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    app = app_server.url

    def page(path: str) -> str:
        driver.get(app + path)
        text: str = driver.find_element(By.TAG_NAME, "main").text
        return text

    # Logged out: the public view.
    home = page("")
    assert driver.find_element(By.ID, "community-name").text == "Commons Test Community"
    assert "Make every manual readable by everyone." in home
    assert driver.find_element(By.ID, "login").text == "Log in"

    members = page("members")
    confirmed = driver.find_element(By.ID, "members").text
    assert "Alice Example" in confirmed and "Bob Builder" in confirmed and "admin" in confirmed
    assert world.carol.webid in driver.find_element(By.ID, "pending").text
    assert "unconfirmed" in members

    public = page("contributions")
    assert "Rewrote the install guide" in public
    assert "https://git.example/pull/42" in public
    assert "Ran the onboarding call" not in public  # community-only: not for the public
    assert "Ran the onboarding call" not in driver.page_source
    assert "visible to members only" in public
    assert public.count("A contribution not visible to you") == 1  # bob's, known from the public ledger

    credit = page("credit")
    assert "2026-11" in credit
    table = driver.find_element(By.ID, "credit").text
    assert "Alice Example" in table and "35" in table and "Bob Builder" in table and "30" in table
    assert "7.25" not in table  # the older report is not the latest
    assert "2 h \u00d7 1.5 (care) \u00d7 10 = 30" in table

    assert "visible to members only" in page("proposals")

    # Log in as bob through pod-server's login and consent pages.
    driver.get(app + "contributions")
    driver.find_element(By.ID, "login").click()
    driver.find_element(By.ID, "webid-input").send_keys(world.bob.webid)
    driver.find_element(By.ID, "continue").click()
    wait_for(lambda: "/.account/login" in driver.current_url)
    driver.find_element(By.NAME, "email").send_keys(world.bob.email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/.oidc/auth" in driver.current_url)
    assert driver.find_element(By.ID, "client-name").text == "Commons app"
    driver.find_element(By.ID, "allow").click()
    wait_for(lambda: driver.current_url == app + "contributions")
    assert driver.find_element(By.ID, "webid").text == world.bob.webid

    # The cookie holds the session id (and the CSRF token), never a token.
    cookie = driver.get_cookie(community_app.COOKIE)["value"]
    content = app_server.app.session_interface.get_signing_serializer(app_server.app).loads(cookie)  # type: ignore[attr-defined]
    assert set(content) <= {"sid", "csrf_token", "_flashes"}

    member_view = driver.find_element(By.TAG_NAME, "main").text
    assert "Ran the onboarding call" in member_view and "Rewrote the install guide" in member_view
    assert "Sketched a secret logo" not in member_view
    assert member_view.count("A contribution not visible to you") == 1  # carol's private one
    cards = {
        c.find_element(By.TAG_NAME, "h2").text: c.text
        for c in driver.find_elements(By.CSS_SELECTOR, "#contributions > li")
    }
    assert "yes by Alice Example" in cards["Ran the onboarding call"]  # the correcting entry counts
    assert "care" in cards["Ran the onboarding call"] and "2" in cards["Ran the onboarding call"]
    assert "yes by Bob Builder" in cards["Rewrote the install guide"]
    assert "not yet" in cards["A contribution not visible to you"]

    proposals = page("proposals")
    assert "Weigh care work higher" in proposals
    assert "An old question" not in proposals and "1 closed proposal not shown" in proposals
    assert (
        "Adopt the value rule “Care counts”: 10 credit per hour; weights care x1.5; at most 40 per P1M"
        in proposals
    )
    votes = driver.find_element(By.CSS_SELECTOR, "#proposals .votes").text
    assert votes.startswith("1") and "Alice Example: yes" in votes

    driver.find_element(By.ID, "logout").click()
    wait_for(lambda: "You are logged out" in driver.page_source)
    assert "Ran the onboarding call" not in page("contributions")
    assert len(app_server.app.extensions["community_app"].store) == 0


def test_the_public_member_list(world: World, app_server: RunningApp) -> None:
    """The public sees the member list (from the roster endpoint, when the server has it, or from
    the public members/ and groups/): both halves for alice and bob, only an invitation for carol."""
    client = app_server.app.test_client()
    page = client.get("/members").get_data(as_text=True)
    assert page.count(">confirmed<") == 2 and page.count(">unconfirmed<") == 1
    assert "2026-01-03 10:00 UTC" in page


def test_a_login_the_provider_ended_is_forgotten(world: World, app_server: RunningApp) -> None:
    """A refresh the provider refuses (here: a refresh token it never issued) logs the visitor out
    of the app, and the page is shown again as the public sees it."""
    ended = Session(issuer=world.server.url, client_id=app_server.url + "client-id")
    ended.webid, ended.expires_at = world.bob.webid, 0.0
    ended._access_token, ended._refresh_token = "expired", "never-issued"
    store = app_server.app.extensions["community_app"].store
    visit = store.create()
    visit.login = ended
    client = app_server.app.test_client()
    with client.session_transaction() as cookie:
        cookie["sid"] = visit.sid
    answer = client.get("/contributions")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/contributions")
    assert visit.login is None
    page = client.get("/contributions").get_data(as_text=True)
    assert "Your login has ended" in page and "Ran the onboarding call" not in page
    store.delete(visit.sid)


# -- the login's edges ------------------------------------------------------------------------------


def test_client_id_document(world: World, app_server: RunningApp) -> None:
    answer = requests.get(app_server.url + "client-id", timeout=5)
    assert answer.headers["Content-Type"].startswith("application/ld+json")
    document = answer.json()
    assert document["client_id"] == app_server.url + "client-id"
    assert document["redirect_uris"] == [app_server.url + "callback"]
    assert document["token_endpoint_auth_method"] == "none"
    assert "https://www.w3.org/ns/solid/oidc-context.jsonld" in document["@context"]


def _login_form(client: FlaskClient, typed: str) -> Any:
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    assert hidden_fields(page)["next"] == "/"  # no open redirect
    return client.post("/login", data={"webid": typed, "csrf_token": csrf_of(page), "next": "/credit"})


def test_login_redirects_to_the_webids_issuer_with_pkce(world: World, app_server: RunningApp) -> None:
    client = app_server.app.test_client()
    answer = _login_form(client, world.bob.webid)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(world.server.url + ".oidc/auth?")
    assert "code_challenge_method=S256" in location and "client_id=http" in location
    assert f"redirect_uri={requests.utils.quote(app_server.url + 'callback', safe='')}" in location


@pytest.mark.parametrize(
    "typed, message",
    [
        ("not a url at all", "neither a WebID profile"),
        ("ftp://example.org/me", "Type your WebID"),
        ("http://10.0.0.1/profile#me", "neither a WebID profile"),  # private: not fetched, not an issuer
    ],
)
def test_login_refuses_what_is_not_a_webid(
    world: World, app_server: RunningApp, typed: str, message: str
) -> None:
    client = app_server.app.test_client()
    answer = _login_form(client, typed)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_a_callback_without_a_started_login_is_refused(world: World, app_server: RunningApp) -> None:
    client = app_server.app.test_client()
    answer = client.get("/callback?code=abc&state=forged")
    assert answer.status_code == 400
    assert "does not belong to a login started in this browser" in answer.get_data(as_text=True)


def test_a_login_post_without_csrf_is_refused(world: World, app_server: RunningApp) -> None:
    answer = app_server.app.test_client().post("/login", data={"webid": world.bob.webid})
    assert answer.status_code == 400


# -- bad community data: friendly pages, never a 500 -----------------------------------------------


@dataclass
class Fake:
    url: str
    files: dict[str, tuple[int, str, bytes]]
    redirects: dict[str, str] = field(default_factory=dict)

    def turtle(self, path: str, body: str, status: int = 200) -> None:
        self.files[path] = (status, "text/turtle", (PREFIXES + body).encode())


@pytest.fixture
def fake() -> Iterator[Fake]:
    """A tiny server answering whatever the test puts in ``files`` (path -> status, type, body)."""
    found = Fake("", {})

    def wsgi(environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path in found.redirects:
            start("302 Found", [("Location", found.redirects[path]), ("Content-Length", "0")])
            return [b""]
        status, kind, body = found.files.get(path, (404, "text/plain", b"not here"))
        start(f"{status} X", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        found.url = f"http://127.0.0.1:{server.server_port}/"
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _client(fake: Fake, **overrides: Any) -> FlaskClient:
    config = AppConfig(community=fake.url + "c/", base_url="http://127.0.0.1:9/", **overrides)
    return community_app.create_app(config).test_client()


def test_a_missing_profile_is_a_502_page(fake: Fake) -> None:
    client = _client(fake)
    for path in ("/", "/members", "/contributions", "/credit", "/proposals"):
        answer = client.get(path)
        assert answer.status_code == 502, path
        assert "could not be read" in answer.get_data(as_text=True)
        assert "does not exist" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "status, kind, body, reason",
    [
        (200, "text/turtle", b"<#me> a <broken", "not valid Turtle"),
        (200, "text/html", b"<html></html>", "not Turtle"),
        (500, "text/plain", b"oops", "answered 500"),
        (200, "text/turtle", b"#" * 5000, "larger than 4096 bytes"),
    ],
)
def test_an_unreadable_profile_says_why(fake: Fake, status: int, kind: str, body: bytes, reason: str) -> None:
    fake.files["/c/profile/card"] = (status, kind, body)
    answer = _client(fake, max_bytes=4096).get("/")
    assert answer.status_code == 502
    assert reason in answer.get_data(as_text=True)


def test_an_unreachable_community_is_a_502_page() -> None:
    probe = make_server("127.0.0.1", 0, Flask("probe"))
    port = probe.server_port
    probe.server_close()  # nobody listens there now
    config = AppConfig(community=f"http://127.0.0.1:{port}/c/", base_url="http://127.0.0.1:9/", timeout=2)
    answer = community_app.create_app(config).test_client().get("/members")
    assert answer.status_code == 502 and "could not be reached" in answer.get_data(as_text=True)


def test_bad_data_inside_the_community_is_a_message(fake: Fake) -> None:
    c = fake.url + "c/"
    fake.turtle("/c/profile/card", '<#me> a cbpp:Community ; foaf:name "Broken Commons" .')
    fake.turtle("/c/members/", "<> ldp:contains <a>, <b>, <c> .")
    fake.turtle(
        "/c/members/a",
        f"<#membership> a org:Membership ; org:member <{c}people/a#me> ; org:role <{c}roles#admin> .",
    )
    fake.files["/c/members/b"] = (200, "text/turtle", b"this is not turtle")
    fake.turtle("/c/members/c", "<#membership> a org:Membership .")  # no member
    fake.files["/c/groups/members"] = (200, "text/html", b"<p>")
    fake.files["/c/.well-known/community"] = (200, "application/json", b'{"members": "nope"}')
    fake.turtle("/c/ledger/", "<> ldp:contains <e1>, <gone> .")
    fake.turtle(
        "/c/ledger/e1",
        '<#entry> a as:Accept ; as:object <../contributions-elsewhere/x#it> ; as:published "not a date" .',
    )
    fake.files["/c/contributions/"] = (403, "text/plain", b"no")
    fake.turtle(
        "/c/contributions-elsewhere/x",
        '<#it> a cbpp:Contribution ; vf:effortQuantity [ vf:hasNumericalValue "lots" ] ; vf:note "Odd one" .',
    )
    fake.turtle("/c/credit/", "<> ldp:contains <2026-11>, <junk> .")
    fake.turtle(
        "/c/credit/2026-11",
        f"""
<#report> a cbpp:CreditReport ; cbpp:periodEnd "whenever" .
<#claim-1> a vf:Claim ; vf:receiver <{c}people/a#me> ; cbpp:hours "x" ;
  vf:resourceQuantity [ vf:hasNumericalValue "NaN" ] .
<#total-1> a cbpp:CreditTotal ; vf:receiver <{c}people/a#me> ; cbpp:amount "twelve" .""",
    )
    fake.turtle("/c/credit/junk", "<#x> a <#Nothing> .")
    fake.turtle("/c/proposals/", "<> ldp:contains <p1> .")
    fake.turtle(
        "/c/proposals/p1",
        """
<#motion> a opengov:Motion ; cbpp:effect <#effect> .
<#effect> a cbpp:AdoptValueRule .
<#event> a opengov:VoteEvent ; opengov:motion <#motion> ; schema:endDate "someday" ;
  opengov:vote <http://10.1.2.3/ballot#v> .""",
    )
    client = _client(fake)

    members = client.get("/members")
    text = members.get_data(as_text=True)
    assert members.status_code == 200
    assert f"{c}people/a#me" in text and "admin" in text and "unconfirmed" in text
    assert "The members group could not be read" in text and "not valid Turtle" in text

    contributions = client.get("/contributions")
    text = contributions.get_data(as_text=True)
    assert contributions.status_code == 200
    assert "visible to members only" in text and "Odd one" in text and "does not exist" in text

    credit = client.get("/credit")
    text = credit.get_data(as_text=True)
    assert credit.status_code == 200
    assert "holds no credit report" in text and "Credit per member" in text
    assert "twelve" not in text  # a non-number total is left out, not shown as data

    proposals = client.get("/proposals")
    text = proposals.get_data(as_text=True)
    assert proposals.status_code == 200
    assert "(untitled)" in text and "someday" in text and "a ballot not visible to you" in text


def test_members_from_the_plain_resources(fake: Fake) -> None:
    """Without the roster endpoint: confirmed = in ``{c}groups/members#group`` and not ended (§4)."""
    c = fake.url + "c/"
    fake.turtle("/c/profile/card", '<#me> a cbpp:Community ; foaf:name "Plain Commons" .')
    fake.turtle("/c/groups/members", f"<#group> a vcard:Group ; vcard:hasMember <{c}p/ann#me> .")
    fake.turtle("/c/members/", "<> ldp:contains <a>, <b>, <c> .")
    fake.turtle("/c/p/ann", '<#me> foaf:name "Ann" .')
    for slug, person, extra in (
        ("a", "ann", 'time:hasBeginning [ time:inXSDDateTimeStamp "2026-02-01T08:00:00Z" ]'),
        ("b", "ben", 'time:hasEnd [ time:inXSDDateTimeStamp "2026-03-01T08:00:00Z" ]'),
        ("c", "cid", 'time:hasBeginning [ time:inXSDDateTimeStamp "2026-04-01T08:00:00Z" ]'),
    ):
        fake.turtle(
            f"/c/members/{slug}",
            f"<#membership> a org:Membership ; org:member <{c}p/{person}#me> ; org:role <{c}roles#member> ;"
            f" org:memberDuring [ a time:Interval ; {extra} ] .",
        )
    page = _client(fake).get("/members").get_data(as_text=True)
    assert "membership records" in page
    confirmed, _, pending = page.partition("Invited or not yet confirmed")
    assert "Ann" in confirmed and "2026-02-01 08:00 UTC" in confirmed and ">confirmed<" in confirmed
    assert f"{c}p/cid#me" in pending and ">unconfirmed<" in pending
    assert f"{c}p/ben#me" not in page  # ended


# -- the guard on outbound requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://pods.example/x", True),
        ("http://127.0.0.1:3000/x", False),
        ("http://internal.example/x", False),
        ("file:///etc/passwd", False),
        ("http://trusted.example/x", True),
    ],
)
def test_the_guard_refuses_private_addresses(url: str, allowed: bool) -> None:
    addresses = {
        "pods.example": ["93.184.216.34"],
        "internal.example": ["10.0.0.5"],
        "127.0.0.1": ["127.0.0.1"],
        "trusted.example": ["10.0.0.6"],
    }
    guard = GuardedHTTP(frozenset({"trusted.example"}), resolver=lambda host, port: addresses[host])
    if allowed:
        guard.check(url)
    else:
        with pytest.raises(ReadError):
            guard.check(url)


def test_each_redirect_hop_is_checked(fake: Fake) -> None:
    fake.redirects["/hop"] = "http://internal.example/profile"
    fake.redirects["/fine"] = fake.url + "card"
    fake.turtle("/card", '<#me> foaf:name "Here" .')
    guard = GuardedHTTP(frozenset({"127.0.0.1"}), resolver=lambda host, port: ["10.0.0.1"])
    reader = Reader(Session(http=guard), timeout=2)
    with pytest.raises(ReadError, match="private or local"):
        reader.get(fake.url + "hop", "text/turtle")
    assert len(reader.graph(fake.url + "fine")) == 1
