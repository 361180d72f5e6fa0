"""``pod community``: found, join and run a community from the command line (docs/communities.md).

A thin layer over :mod:`pod_client.community` and :mod:`pod_client.ledger`, with the conventions of
:mod:`pod_client.cli`: the saved session, ``--json`` (one JSON document on stdout), the same exit
codes (``3`` not logged in, ``4`` not allowed, ``5`` not found, ``6`` conflict, ``2`` usage; a 422
"does not agree / does not conform" is ``1`` with the server's explanation). Examples:

.. code-block:: sh

    pod community create https://host/ commons --title "OpenMaps Commons"
    pod community join https://host/commons/
    pod community accept https://host/commons/ --request <member half URL>   # an admin
    pod community accept https://host/commons/                               # the invited person
    pod community contribute https://host/commons/ --kind documentation --hours 3.5 \\
        --note "Rewrote the install guide" --evidence https://git.example/pull/42 --visibility community
    pod community acknowledge https://host/commons/ CONTRIBUTION_URL
    pod community ledger https://host/commons/ --period 2026-11 --write
    pod community propose https://host/commons/ --title "Credit" \\
        --value-rule credit_per_hour=10,care=1.5,cap=40
    pod community vote MOTION_URL yes

This module never imports :mod:`pod_client.cli` at load time (``cli`` imports it to register the
group), only when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from pod_client import ledger
from pod_client.community import (
    ACTIONS,
    VISIBILITY,
    VOTE_OPTIONS,
    Community,
    CommunityInfo,
    admit_member,
    adopt_decision_rule,
    community_of_motion,
    parse_value_rule,
    remove_member,
)

if TYPE_CHECKING:
    from pod_client.cli import State


class CommunityGroup(click.Group):
    """Mistakes in the arguments the library finds (an unknown kind, a bad rule) are usage errors
    (exit code 2); everything else goes up to the ``pod`` group, which maps it to an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ValueError as exc:
            raise click.UsageError(str(exc), ctx) from exc


def _state() -> State:
    from pod_client.cli import State

    state = click.get_current_context().find_object(State)
    if state is None:  # run on its own, outside `pod`: the default session file
        from pod_client.cli import default_session_path

        state = State(default_session_path(), False)
    return state


def _community(url: str) -> Community:
    return Community(_state().session(), url)


def _require_login() -> None:
    if _state().session().webid is None:
        from pod_client.cli import Failure

        raise Failure(
            "not logged in: this needs your WebID. Log in with `pod login`.",
            exit_code=3,
            as_json=_state().as_json,
        )


def _lines(pairs: list[tuple[str, Any]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in pairs if value not in (None, "", [], ()))


@click.group(cls=CommunityGroup)
def community() -> None:
    """Communities: found one, join, contribute, acknowledge, propose and vote.

    \b
    A community is a pod whose WebID speaks for the community. Your side
    (membership, contributions, ballots) stays in your own pod; the community
    links to it. URL is the community's pod (https://host/name/).
    """


@community.command()
@click.argument("server")
@click.argument("name")
@click.option("--title", required=True, help="The community's name, as people read it.")
@click.option("--description", help="What it is, in a sentence or two.")
@click.option("--mission", help="What it is for.")
@click.option("--homepage", metavar="URL", help="Its web site.")
@click.option("--link", "links", metavar="URL", multiple=True, help="Another page about it (repeatable).")
def create(
    server: str,
    name: str,
    title: str,
    description: str | None,
    mission: str | None,
    homepage: str | None,
    links: tuple[str, ...],
) -> None:
    """Found a community at SERVER/NAME/, with you as its first admin."""
    _require_login()
    found, answer = Community.create(
        _state().session(),
        server,
        name,
        title,
        description=description,
        mission=mission,
        homepage=homepage,
        links=links,
    )
    confirmed = "confirmed" if answer.get("confirmed") else "not confirmed yet"
    _state().emit(
        answer,
        f"Founded {found.url} (WebID {found.webid}).\nYou are its admin; membership {confirmed}.",
    )


@community.command()
@click.argument("url")
def show(url: str) -> None:
    """Show a community: its profile and its members."""
    info = _community(url).show()
    _state().emit(info.to_json(), _describe(info))


def _describe(info: CommunityInfo) -> str:
    head = _lines(
        [
            ("community", info.webid),
            ("name", info.name),
            ("description", info.description),
            ("mission", info.mission),
            ("homepage", ", ".join(info.homepages)),
            ("value rule", info.value_rule),
            ("decision rule", info.decision_rule),
        ]
    )
    rows = [f"members ({len(info.members)}):"]
    for member in info.members:
        flag = "" if member.confirmed else "  (unconfirmed)"
        rows.append(f"  {member.webid}  {', '.join(member.roles)}{flag}")
    if info.pending:
        rows.append(f"pending ({len(info.pending)}):")
        rows.extend(f"  {m.webid}  {', '.join(m.roles)}" for m in info.pending)
    return head + "\n" + "\n".join(rows)


@community.command()
@click.argument("url")
def join(url: str) -> None:
    """Ask to join: writes your membership half, sends a join request."""
    _require_login()
    answer = _community(url).join()
    _state().emit(
        answer,
        f"Asked to join {url}.\nYour membership half: {answer['membership']}\n"
        "An admin accepts it with: pod community accept URL --request <that URL>",
    )


@community.command()
@click.argument("url")
@click.argument("webid")
@click.option("--role", help="The role to give (default: member).")
def invite(url: str, webid: str, role: str | None) -> None:
    """Invite WEBID (they accept with `pod community accept URL`)."""
    answer = _community(url).invite(webid, role)
    notified = "they were notified" if answer.get("notified") else "they could not be notified"
    _state().emit(answer, f"Invited {webid} ({notified}).\nMembership: {answer.get('membership')}")


@community.command()
@click.argument("url")
@click.option(
    "--request",
    "member_half",
    metavar="URL",
    help="As an admin: accept this join request (the person's membership half).",
)
@click.option("--role", help="With --request: the role to give (default: member).")
def accept(url: str, member_half: str | None, role: str | None) -> None:
    """Accept an invitation (you), or a join request (an admin, with --request)."""
    if member_half is None and role is not None:
        raise click.UsageError("--role goes with --request (the community gives roles when it admits)")
    _require_login()
    club = _community(url)
    if member_half is None:
        answer = club.accept_invitation()
        _state().emit(answer, f"You are a member of {club.url} now.")
    else:
        answer = club.accept_request(member_half, role)
        _state().emit(answer, f"Accepted the request: {answer.get('membership', member_half)}")


@community.command()
@click.argument("url")
def requests(url: str) -> None:
    """List the join requests in the community's inbox (admins)."""
    found = _community(url).join_requests()
    text = "\n".join(f"{r['actor']}  --request {r['membership']}" for r in found) or "No join requests."
    _state().emit({"requests": found}, text)


@community.command()
@click.argument("url")
def leave(url: str) -> None:
    """Leave the community (your membership half is deleted)."""
    _require_login()
    answer = _community(url).leave()
    _state().emit(answer, f"You left {url}.")


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2026-11-03T16:00:00Z", param_hint=name
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone: add Z or +01:00", param_hint=name)
    return moment


def _hours(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number of hours") from None
    if not hours.is_finite() or hours < 0:
        raise click.BadParameter("hours are 0 or more")
    return hours


@community.command()
@click.argument("url")
@click.option("--kind", "kinds", multiple=True, required=True, help="What kind (repeatable): code, care, ...")
@click.option("--hours", callback=_hours, help="Hours of effort, e.g. 3.5.")
@click.option("--note", help="What you did (at most 2000 characters).")
@click.option("--evidence", multiple=True, metavar="URL", help="A link to the work (repeatable).")
@click.option("--at", "at_", metavar="TIME", help="When (default: now), e.g. 2026-11-03T16:00:00Z.")
@click.option("--from", "begin", metavar="TIME", help="Or: when it began (with --to).")
@click.option("--to", "end", metavar="TIME", help="When it ended (with --from).")
@click.option(
    "--visibility",
    type=click.Choice(list(VISIBILITY)),
    default="community",
    show_default=True,
    help="Who may read it: you, the community's members, or everyone.",
)
@click.option("--action", type=click.Choice(list(ACTIONS)), default="work", show_default=True)
@click.option("--no-announce", is_flag=True, help="Record it in your pod without telling the community.")
def contribute(
    url: str,
    kinds: tuple[str, ...],
    hours: Decimal | None,
    note: str | None,
    evidence: tuple[str, ...],
    at_: str | None,
    begin: str | None,
    end: str | None,
    visibility: str,
    action: str,
    no_announce: bool,
) -> None:
    """Record a contribution in your pod and announce it to the community."""
    at, began, ended = _moment(at_, "--at"), _moment(begin, "--from"), _moment(end, "--to")
    _require_login()
    node = _community(url).contribute(
        list(kinds),
        hours=hours,
        note=note,
        evidence=evidence,
        at=at,
        begin=began,
        end=ended,
        visibility=visibility,
        action=action,
        announce=not no_announce,
    )
    _state().emit(
        {"contribution": node, "announced": not no_announce, "visibility": visibility},
        f"Recorded {node}" + ("" if no_announce else " and announced it."),
    )


@community.command()
@click.argument("url")
def contributions(url: str) -> None:
    """List the announced contributions you may read."""
    readable, skipped = _community(url).contributions()
    rows = [
        f"{c.when or '-'}  {c.hours if c.hours is not None else '-':>6}h  "
        f"{', '.join(k.rsplit('#', 1)[-1] for k in c.kinds)}  {c.provider}  {c.iri}"
        for c in readable
    ]
    if skipped:
        rows.append(f"({len(skipped)} announced contribution(s) you may not read)")
    _state().emit(
        {
            "contributions": [c.to_json() for c in readable],
            "unreadable": [{"url": s.url, "status": s.status, "reason": s.reason} for s in skipped],
        },
        "\n".join(rows) or "No contributions.",
    )


@community.command()
@click.argument("url")
@click.argument("contribution")
@click.option("--reject", is_flag=True, help="Reject it instead of accepting it.")
@click.option("--corrects", metavar="ENTRY", help="This acknowledgement supersedes ENTRY (a ledger entry).")
@click.option("--note", help="A note for the ledger.")
def acknowledge(url: str, contribution: str, reject: bool, corrects: str | None, note: str | None) -> None:
    """Acknowledge CONTRIBUTION as you read it now (its digest goes with it)."""
    answer = _community(url).acknowledge(
        contribution, "reject" if reject else "accept", corrects=corrects, note=note
    )
    verdict = "Rejected" if reject else "Accepted"
    _state().emit(answer, f"{verdict} {contribution}.\nLedger entry: {answer.get('entry')}")


@community.command("ledger")
@click.argument("url")
@click.option("--period", required=True, help="A month (2026-11) or a year (2026).")
@click.option("--write", is_flag=True, help="Write the report to the community's credit/ (admins).")
def ledger_(url: str, period: str, write: bool) -> None:
    """Compute the credit of a period from the ledger (and write the report)."""
    start, end = ledger.period_bounds(period)
    session = _state().session()
    report = ledger.compute_credit(session, url, start, end)
    document = report.to_json()
    written = ledger.write_report(session, url, report, period) if write else None
    document["report"] = written
    rows = [f"Credit for {period} under {report.rule.iri}:"]
    for total in report.totals:
        capped = "" if total.amount == total.uncapped else f" (capped from {total.uncapped:.2f})"
        rows.append(f"  {total.amount:>10.2f}  {total.receiver}{capped}")
    if not report.totals:
        rows.append("  (no acknowledged contributions in this period)")
    for skipped in report.skipped:
        rows.append(f"  skipped {skipped.contribution}: {skipped.reason}")
    if written:
        rows.append(f"Written to {written}")
    _state().emit(document, "\n".join(rows))


def _decision_rule(text: str) -> dict[str, Any]:
    values = dict(part.strip().partition("=")[::2] for part in text.split(",") if part.strip())
    missing = [n for n in ("quorum", "threshold", "period") if not values.get(n)]
    if missing:
        raise ValueError(
            f"--decision-rule needs {', '.join(missing)}: e.g. quorum=0.5,threshold=0.5,period=P7D"
        )
    try:
        quorum, threshold = float(values["quorum"]), float(values["threshold"])
    except ValueError:
        raise ValueError("quorum and threshold are numbers between 0 and 1") from None
    return adopt_decision_rule(
        quorum, threshold, values["period"], values.get("electorate"), values.get("weighting")
    )


@community.command()
@click.argument("url")
@click.option("--title", required=True, help="What the motion is, in a line.")
@click.option("--description", help="Why, in more words.")
@click.option("--remove-member", metavar="WEBID", help="Effect: end WEBID's membership.")
@click.option("--admit-member", metavar="WEBID", help="Effect: admit WEBID.")
@click.option("--role", help="With --admit-member: the role (default: member).")
@click.option(
    "--value-rule",
    metavar="SPEC",
    help="Effect: adopt a value rule, e.g. credit_per_hour=10,care=1.5,cap=40[,period=P1M].",
)
@click.option(
    "--decision-rule",
    metavar="SPEC",
    help="Effect: adopt a decision rule, e.g. quorum=0.5,threshold=0.5,period=P7D"
    "[,weighting=credit-weighted].",
)
def propose(
    url: str,
    title: str,
    description: str | None,
    remove_member: str | None,
    admit_member: str | None,
    role: str | None,
    value_rule: str | None,
    decision_rule: str | None,
) -> None:
    """Table a motion (with at most one effect)."""
    chosen = [
        n for n, v in (("--remove-member", remove_member), ("--admit-member", admit_member),
                       ("--value-rule", value_rule), ("--decision-rule", decision_rule)) if v
    ]  # fmt: skip
    if len(chosen) > 1:
        raise click.UsageError(f"one effect per motion; got {' and '.join(chosen)}")
    if role is not None and admit_member is None:
        raise click.UsageError("--role goes with --admit-member")
    effect = _effect(remove_member, admit_member, role, value_rule, decision_rule, title)
    answer = _community(url).propose(title, description=description, effect=effect)
    _state().emit(
        answer,
        f"Tabled {answer.get('motion')}\nVoting closes {answer.get('closes')}.\n"
        f"Vote with: pod community vote {answer.get('motion')} yes|no|abstain",
    )


def _effect(
    remove: str | None,
    admit: str | None,
    role: str | None,
    value: str | None,
    decision: str | None,
    title: str,
) -> dict[str, Any] | None:
    builders: list[tuple[str | None, Callable[[str], dict[str, Any]]]] = [
        (remove, remove_member),
        (admit, lambda w: admit_member(w, role or "member")),
        (value, lambda spec: parse_value_rule(spec, title)),
        (decision, _decision_rule),
    ]
    for given, build in builders:
        if given:
            return build(given)
    return None


@community.command()
@click.argument("motion")
@click.argument("option", type=click.Choice(VOTE_OPTIONS))
def vote(motion: str, option: str) -> None:
    """Vote yes, no or abstain on MOTION (voting again replaces your ballot)."""
    where = community_of_motion(motion)
    _require_login()
    club = _community(where)
    answer = club.vote(motion, option)
    _state().emit(answer, f"Voted {option} on {motion}.\nYour ballot: {answer.get('ballot')}")


@community.command()
@click.argument("motion")
def tally(motion: str) -> None:
    """Count the votes on MOTION (once it has closed, or everyone voted)."""
    answer = _community(community_of_motion(motion)).tally(motion)
    counts = answer.get("counts") or {}
    shown = ", ".join(f"{k} {v}" for k, v in counts.items())
    _state().emit(
        answer, f"{str(answer.get('result', '?')).upper()}: {shown}\nDecision: {answer.get('decision')}"
    )


@community.command()
@click.argument("url")
@click.option("--all", "everything", is_flag=True, help="Closed and decided motions too.")
def proposals(url: str, everything: bool) -> None:
    """List the open motions (members)."""
    club = _community(url)
    found = club.proposals() if everything else club.open_proposals()
    rows = [
        f"{'open  ' if p.open else 'closed'}  {p.closes or '-'}  {p.title or '(untitled)'}  {p.motion}"
        for p in found
    ]
    _state().emit({"proposals": [p.to_json() for p in found]}, "\n".join(rows) or "No open motions.")


__all__ = ["community"]
