"""Reads for proposals and votes. Nothing here writes: a GET computes what the clock says.

Results come from the running tally (one row); only a proposal that is past its end while its close is not yet
recorded (the sampler records it, and freezes the tally to the exact recount) is recounted from its votes here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.chain import home_chain_id
from governance.deploy import contract_address
from governance.models import (
    Proposal, ProposalEvent, ProposalState, ProposalTally, RiskParameterChange, SnapshotWeight, Vote,
)
from governance.strategies import ERC20_VOTES, ERC721_BALANCE_OF, Strategy, checksum, voting_weight, weight_parts
from governance.voting import InvalidChoice, Outcome, TallyResult, TallyState, VotingType, voting_method, wei
from portal.cache import database_row, database_version
from portal.discussion.models import Comment
from portal.errors import NotFound

PAGE_SIZE = 20


@dataclass(frozen=True)
class ChoiceResult:
    number: int
    name: str
    weight: Decimal
    percent: float
    leading: bool


@dataclass(frozen=True)
class Results:
    state: str
    choices: list[ChoiceResult]
    total: Decimal
    voters: int
    quorum: Decimal
    quorum_weight: Decimal
    quorum_reached: bool
    quorum_percent: float
    outcome: str | None  # only once voting has closed
    winner: int | None
    outcome_sentence: str = field(default="")

    @property
    def scores(self) -> list[Decimal]:
        return [c.weight for c in self.choices]

    @property
    def quorum_missing(self) -> Decimal:
        """How much more counted weight the quorum needs (0 once it is reached)."""
        return max(Decimal(0), self.quorum - self.quorum_weight)


def state_filter(state: str, *, now=None) -> Q:
    """The clock-derived state as a database filter."""
    now = now or timezone.now()
    live = Q(activated_at__isnull=False, cancelled_at__isnull=True, executed_at__isnull=True)
    return {
        ProposalState.DRAFT: Q(activated_at__isnull=True, cancelled_at__isnull=True),
        ProposalState.PENDING: live & Q(start__gt=now),
        ProposalState.ACTIVE: live & Q(start__lte=now, end__gt=now),
        ProposalState.CLOSED: live & Q(end__lte=now),
        ProposalState.EXECUTED: Q(executed_at__isnull=False),
        ProposalState.CANCELLED: Q(cancelled_at__isnull=False, executed_at__isnull=True),
    }.get(state, Q())


def proposal_list(*, state: str | None = None, category: str | None = None, search: str | None = None) -> QuerySet:
    """Proposals newest first, filtered by state, category and a title search."""
    qs = Proposal.objects.select_related("tally", "risk_change")
    if state:
        qs = qs.filter(state_filter(state))
    if category:
        qs = qs.filter(category=category)
    if search:
        qs = qs.filter(title__icontains=search.strip()[:100])
    return qs.order_by("-number")


@functools.cache
def _proposals_version_sql() -> str:
    q = connection.ops.quote_name
    proposals, tallies = q(Proposal._meta.db_table), q(ProposalTally._meta.db_table)
    latest = ", ".join(f"MAX({q(column)})" for column in
                       ("updated", "activated_at", "cancelled_at", "executed_at", "close_recorded_at"))
    return (
        f"SELECT COUNT(*), {latest}, MIN(CASE WHEN {q('start')} > %s THEN {q('start')} END), "
        f"MIN(CASE WHEN {q('end')} > %s THEN {q('end')} END), "
        f"(SELECT MAX({q('updated')}) FROM {tallies}), (SELECT SUM({q('voters')}) FROM {tallies}) FROM {proposals}"
    )


def proposals_version(*, now: datetime | None = None) -> str:
    """A version of everything the proposal list shows, in one query: it changes when a proposal is added,
    edited, activated, cancelled, executed or closed, when a vote moves a running tally, and when the clock passes
    a start or an end (the next one after `now` is part of it), which changes a state without any write."""
    now = connection.ops.adapt_datetimefield_value(now or timezone.now())
    # On SQLite, through the process's kept reader connection: a signed-out reader's cached list then opens none.
    return database_version(_proposals_version_sql(), [now, now], sqlite_reader=True)


@functools.cache
def _proposal_page_version_sql() -> str:
    q = connection.ops.quote_name
    tables = (Proposal, ProposalTally, RiskParameterChange)
    proposals, tallies, changes = (q(m._meta.db_table) for m in tables)
    events, votes, comments = (q(m._meta.db_table) for m in (ProposalEvent, Vote, Comment))
    own = ", ".join(f"p.{q(column)}" for column in (
        "id", "updated", "activated_at", "cancelled_at", "executed_at", "close_recorded_at", "execution_tx",
        "snapshot_block", "snapshot_time", "thread_id"))
    running = ", ".join(f"t.{q(column)}" for column in ("updated", "voters"))
    checked = ", ".join(f"r.{q(column)}" for column in ("checked_at", "checked_block", "onchain_matches"))
    of_proposal, of_thread = f"{q('proposal_id')} = p.{q('id')}", f"{q('thread_id')} = p.{q('thread_id')}"
    visible = f"{of_thread} AND {q('hidden')} = %s AND {q('deleted')} IS NULL"
    return (
        f"SELECT {own}, CASE WHEN p.{q('start')} <= %s THEN 1 ELSE 0 END, "
        f"CASE WHEN p.{q('end')} <= %s THEN 1 ELSE 0 END, {running}, {checked}, "
        f"(SELECT COUNT(*) FROM {events} WHERE {of_proposal}), "
        f"(SELECT MAX({q('id')}) FROM {events} WHERE {of_proposal}), "
        f"(SELECT COUNT(*) FROM {votes} WHERE {of_proposal}), "
        f"(SELECT COUNT(*) FROM {comments} WHERE {visible}), "
        f"(SELECT MAX({q('id')}) FROM {comments} WHERE {of_thread}), "
        f"(SELECT MAX({q('changed')}) FROM {comments} WHERE {of_thread}) "
        f"FROM {proposals} p LEFT JOIN {tallies} t ON t.{q('proposal_id')} = p.{q('id')} "
        f"LEFT JOIN {changes} r ON r.{q('proposal_id')} = p.{q('id')} WHERE p.{q('number')} = %s"
    )


def proposal_page_version(*, number: int, now: datetime | None = None) -> str:
    """A version of everything LIP-`number`'s page shows, in one plain-SQL query (the ORM would take longer to
    compile it than the database to answer): the proposal's own fields (an edit moves `updated`), whether the
    clock has passed its start and its end at `now` (a close by the clock writes nothing), its running tally,
    its risk change's on-chain check, its logged events (the timeline), its number of votes (a vote written
    without the tally still shows) and its discussion card's comments: how many are visible (a hide, an unhide
    or a delete moves it, even one written as a bare update), the newest (a new comment) and the latest change
    (an edit: every service moves `Comment.changed`). NotFound (404) when there is no such proposal."""
    now = connection.ops.adapt_datetimefield_value(now or timezone.now())
    low, high = connection.ops.integer_field_range(Proposal._meta.get_field("number").get_internal_type())
    if not (low <= number <= high):  # no proposal, as the ORM would answer it (not the driver's OverflowError)
        raise NotFound(_not_found(number))
    # On SQLite, through the process's kept reader connection: a signed-out reader's cached page then opens none.
    row = database_row(_proposal_page_version_sql(), [now, now, False, number], sqlite_reader=True)
    if row is None:
        raise NotFound(_not_found(number))
    return "|".join(f"{value}" for value in row)


def _not_found(number: int) -> str:
    return f"There is no proposal LIP-{number}."


def proposal_get(*, number: int) -> Proposal:
    """LIP-`number` with its author, thread and running tally; NotFound (404) when there is none."""
    proposal = (
        Proposal.objects.select_related("author", "thread", "tally", "risk_change").filter(number=number).first()
    )
    if proposal is None:
        raise NotFound(_not_found(number))
    return proposal


def proposal_to_vote_on(*, number: int) -> Proposal:
    """LIP-`number` alone (a vote reads no author, thread or tally through it: the tally is locked and read by the
    vote itself); NotFound (404) when there is none."""
    low, high = connection.ops.integer_field_range(Proposal._meta.get_field("number").get_internal_type())
    # A number the column cannot hold is no proposal (as the ORM answers it), not a database error.
    if (low is not None and number < low) or (high is not None and number > high):
        raise NotFound(_not_found(number))
    sql, names, converters = _proposal_by_number(connection.alias, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [number])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_not_found(number))
    row = list(row)
    for position, (functions, expression) in converters.items():  # as SQLCompiler.apply_converters does
        for convert in functions:
            row[position] = convert(row[position], expression, connection)
    return Proposal.from_db(connection.alias, names, row)


@functools.cache
def _proposal_by_number(alias: str, vendor: str):
    """The ORM's own query for a proposal by number, compiled once: every vote reads it, and compiling it (or a raw
    query's column mapping) took longer than running it. Returns the SQL, the field names in its column order, and
    the database's converters by column (applied with the asking thread's connection)."""
    compiler = Proposal.objects.filter(number=0).query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if list(params) != [0]:  # the one parameter is the number: anything else would be a different query
        raise RuntimeError(f"unexpected parameters in the proposal query: {params!r}")
    columns = [col for col, _, _ in compiler.select]
    return sql, [col.target.attname for col in columns], compiler.get_converters(columns)


def risk_change_get(*, proposal: Proposal) -> RiskParameterChange | None:
    """The risk proposal's structured change, or None (select_related by proposal_get and proposal_list)."""
    try:
        return proposal.risk_change
    except RiskParameterChange.DoesNotExist:
        return None


def risk_change_json(*, proposal: Proposal) -> dict | None:
    """The change as the API and the recount file carry it: market, asset, symbol, parameter, old and new value
    (fractions as decimal strings; a price shock's new value is the relative change) and, once executed, what the
    pool answered on-chain (checked_block, onchain_value, onchain_matches)."""
    row = risk_change_get(proposal=proposal)
    if row is None:
        return None
    return {
        "market": row.market, "asset": row.asset, "symbol": row.symbol, "parameter": row.parameter,
        "old": row.old_value, "new": row.new_value, "checked_block": row.checked_block,
        "onchain_value": row.onchain_value or None, "onchain_matches": row.onchain_matches,
    }


def effective_state(*, proposal: Proposal, now: datetime | None = None) -> str:
    """The state the clock gives at `now` (default: now): a proposal is closed from its end on, whether or not the
    sampler has recorded the close yet. Pages, the API and the services read the state through here."""
    return proposal.state_at(now)


def close_pending(*, proposal: Proposal, now: datetime | None = None) -> bool:
    """True when the proposal is past its end but its close (timeline entry, frozen tally, notices) is unrecorded."""
    return (
        proposal.activated_at is not None
        and proposal.close_recorded_at is None
        and proposal.end <= (now or timezone.now())
    )


def active_proposals(*, limit: int = 5) -> list[Proposal]:
    return list(proposal_list(state=ProposalState.ACTIVE).order_by("end")[:limit])


def _ballots(proposal: Proposal):
    """Every stored vote as (ballot, weight), streamed in one query."""
    method, n = voting_method(proposal.voting_type), len(proposal.choice_names)
    rows = Vote.objects.filter(proposal=proposal).values_list("choice", "weight").iterator(chunk_size=5000)
    return ((method.parse(choice, n), Decimal(weight)) for choice, weight in rows)


def exact_state(*, proposal: Proposal) -> tuple[TallyState, int]:
    """The tally state and voter count recounted from every stored vote (what the close freezes; one query)."""
    return voting_method(proposal.voting_type).count(len(proposal.choice_names), _ballots(proposal))


def _running_state(proposal: Proposal) -> tuple[TallyState, int]:
    if close_pending(proposal=proposal):
        # Closed by the clock, not yet frozen: publish the exact recount, as the frozen row will hold.
        return exact_state(proposal=proposal)
    try:
        running = proposal.tally
    except ProposalTally.DoesNotExist:
        running = None
    n = len(proposal.choice_names)
    if running is None or not running.state:
        return voting_method(proposal.voting_type).empty(n), 0
    return TallyState.from_json(running.state), running.voters


def results_from_scores(proposal: Proposal, scores: list[Decimal], total: Decimal, voters: int) -> Results:
    names = proposal.choice_names
    quorum = proposal.quorum_amount
    method = voting_method(proposal.voting_type)
    counted = method.quorum_weight(scores, total)
    state = effective_state(proposal=proposal)
    decided, winner = method.decide(scores, total, quorum)
    spread = sum(scores, Decimal(0))
    best = max(scores) if scores else Decimal(0)
    rows = [
        ChoiceResult(
            number=i,
            name=name,
            weight=score,
            percent=float(score / spread * 100) if spread > 0 else 0.0,
            leading=score == best and best > 0,
        )
        for i, (name, score) in enumerate(zip(names, scores, strict=True), start=1)
    ]
    closed = state in (ProposalState.CLOSED, ProposalState.EXECUTED)
    outcome = decided if closed else None
    sentence = ""
    if decided == Outcome.QUORUM_NOT_MET:
        sentence = f"quorum not met ({counted:,.2f} of {quorum:,.2f} needed)."
    elif decided == Outcome.PASSED:
        sentence = "passed." if proposal.voting_type == VotingType.BASIC else f"passed: “{names[winner - 1]}” won."
    else:
        sentence = "rejected." if proposal.voting_type == VotingType.BASIC or total <= 0 else "rejected: no single choice won."
    return Results(
        state=state,
        choices=rows,
        total=total,
        voters=voters,
        quorum=quorum,
        quorum_weight=counted,
        quorum_reached=counted >= quorum and (quorum <= 0 or total > 0),
        quorum_percent=min(100.0, float(counted / quorum * 100)) if quorum > 0 else 100.0,
        outcome=outcome,
        winner=winner if closed and decided == Outcome.PASSED else None,
        outcome_sentence=sentence[0].upper() + sentence[1:] if sentence else "",
    )


def proposal_results(*, proposal: Proposal) -> Results:
    """Results from the running tally: weight per choice, total, voters, quorum, and the outcome once closed."""
    state, voters = _running_state(proposal)
    scores = voting_method(proposal.voting_type).scores(state, len(proposal.choice_names))
    return results_from_scores(proposal, scores, wei(state.total), voters)


def proposal_recount(*, proposal: Proposal) -> TallyResult:
    """The full tally from the stored votes (what the export publishes and a recount checks)."""
    return voting_method(proposal.voting_type).recount(proposal.choice_names, _ballots(proposal))


def snapshot_weight(*, proposal: Proposal, address: str) -> Decimal:
    """`address`'s voting weight through the proposal's strategies at its snapshot: the stored weight when it was
    read before (governance.services.weights), otherwise read now. Raises ChainUnavailable."""
    stored = stored_snapshot_weight(proposal=proposal, address=address)
    if stored is not None:
        return stored
    return voting_weight(
        strategies=[Strategy.from_json(s) for s in proposal.strategies], snapshot_block=proposal.snapshot_block,
        snapshot_time=proposal.snapshot_time, address=address,
    )


@dataclass(frozen=True)
class WeightLine:
    """One line of "your voting power explained": what was read, times what, adds how much."""

    label: str
    amount: Decimal | None
    multiplier: Decimal
    weight: Decimal | None
    chain_id: int
    other_chain: bool


def snapshot_weight_lines(*, proposal: Proposal, address: str) -> list[WeightLine]:
    """`address`'s weight at the proposal's snapshot, strategy by strategy, in words (the loyalty token's delegated
    votes, badges, other tokens and chains). Raises ChainUnavailable."""
    strategies = [Strategy.from_json(s) for s in proposal.strategies]
    parts = weight_parts(
        strategies=strategies, snapshot_block=proposal.snapshot_block, snapshot_time=proposal.snapshot_time,
        address=address,
    )
    known = {contract_address("LoyaltyToken"): "loyalty-token votes", contract_address("AchievementBadge"): "badges"}
    home = home_chain_id()
    lines = []
    for part in parts:
        strategy = part.strategy
        label = known.get(strategy.address) if strategy.chain_id == home else None
        if label is None:
            noun = {ERC20_VOTES: "votes", ERC721_BALANCE_OF: "tokens held"}.get(strategy.kind, "tokens held")
            label = f"{noun} of {strategy.address[:6]}…{strategy.address[-4:]}"
        lines.append(
            WeightLine(
                label=label, amount=part.amount, multiplier=strategy.multiplier, weight=part.weight,
                chain_id=strategy.chain_id, other_chain=strategy.chain_id != home,
            )
        )
    return lines


def stored_snapshot_weight(*, proposal: Proposal, address: str) -> Decimal | None:
    """The weight read earlier at the proposal's snapshot block, or None. Raises ValueError for a non-address."""
    weight = (
        SnapshotWeight.objects.filter(proposal=proposal, voter=checksum(address)).values_list("weight", flat=True).first()
    )
    return None if weight is None else Decimal(weight)


def vote_list(*, proposal: Proposal) -> QuerySet:
    """Counted votes, heaviest first."""
    return Vote.objects.filter(proposal=proposal).order_by("-weight_sort", "id")


def vote_of(*, proposal: Proposal, addresses: list[str]) -> Vote | None:
    if not addresses:
        return None
    return Vote.objects.filter(proposal=proposal, voter__in=addresses).order_by("-timestamp").first()


def vote_words(*, proposal: Proposal, vote: Vote) -> str:
    """The vote's choice in words ("For", "(1st) B, (2nd) A"); the raw text if it no longer parses."""
    method = voting_method(proposal.voting_type)
    try:
        ballot = method.parse(vote.choice, len(proposal.choice_names))
    except InvalidChoice:
        return vote.choice
    return method.describe(proposal.choice_names, ballot)


def voters_shown(*, proposal: Proposal, limit: int) -> list[Vote]:
    """The `limit` heaviest votes, each with `choice_words` set (one query, of the columns the voter list shows:
    not each vote's signed payload)."""
    votes = list(vote_list(proposal=proposal).only("proposal_id", "voter", "choice", "reason", "weight")[:limit])
    for vote in votes:
        vote.choice_words = vote_words(proposal=proposal, vote=vote)
    return votes


def proposal_timeline(*, proposal: Proposal) -> list[dict]:
    """Logged transitions, plus the ones the clock makes (opening, closing) that are not logged yet."""
    events = [
        {"kind": e.kind, "label": e.get_kind_display(), "at": e.at, "who": e.actor_label, "note": e.note}
        for e in ProposalEvent.objects.filter(proposal=proposal).order_by("at", "id")
    ]
    now = timezone.now()
    if proposal.activated_at and proposal.start <= now:
        events.append({"kind": "opened", "label": "Voting opened", "at": proposal.start, "who": "the clock", "note": ""})
    if proposal.activated_at and not proposal.close_recorded_at and proposal.end <= now and not proposal.cancelled_at:
        events.append({"kind": "closed", "label": "Voting closed", "at": proposal.end, "who": "the clock", "note": ""})
    elif proposal.activated_at and proposal.end > now and not proposal.cancelled_at:
        events.append({"kind": "upcoming", "label": "Voting closes", "at": proposal.end, "who": "", "note": ""})
    order = {"created": 0, "updated": 1, "activated": 2, "opened": 3, "closed": 4, "upcoming": 4, "cancelled": 5, "executed": 5}
    events.sort(key=lambda e: (e["at"].replace(microsecond=0), order.get(e["kind"], 9)))
    return events
