"""Proposal lifecycle by the clock, the services' checks, and the pages (list, proposal, form) with query counts."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from governance import services
from governance.models import Proposal, ProposalEvent, Vote
from portal.errors import Refusal

pytestmark = pytest.mark.django_db


def test_state_follows_the_clock_through_the_lifecycle(make_proposal, admin_user, ballot, post_vote, dev_accounts, client):
    draft = make_proposal("basic", activate=False, quorum="1000")
    assert draft.state == "draft"
    with time_machine.travel(draft.end + timedelta(days=1), tick=False):
        assert draft.state == "draft"  # a draft never opens by itself
    proposal = services.proposal_activate(proposal=draft, actor=admin_user)
    assert proposal.state == "active" and proposal.snapshot_block is not None and proposal.strategies
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1)).status_code == HTTPStatus.CREATED
    with time_machine.travel(proposal.end - timedelta(seconds=1), tick=False):
        assert Proposal.objects.get(pk=proposal.pk).state == "active"
    with time_machine.travel(proposal.end + timedelta(seconds=1), tick=False):
        fresh = Proposal.objects.get(pk=proposal.pk)
        assert fresh.state == "closed"
        detail = client.get(f"/api/v1/proposals/{proposal.number}").json()
        assert detail["state"] == "closed" and detail["outcome"] == "passed"
        # a read records nothing; the sampler's tick records the close, once
        assert not ProposalEvent.objects.filter(proposal=proposal, kind="closed").exists()
        assert services.proposals_close_due() == 1
        assert ProposalEvent.objects.filter(proposal=proposal, kind="closed").count() == 1
        client.get(f"/api/v1/proposals/{proposal.number}")
        assert services.proposals_close_due() == 0
        assert ProposalEvent.objects.filter(proposal=proposal, kind="closed").count() == 1
        tx = "0x" + "ab" * 32
        executed = services.proposal_mark_executed(proposal=fresh, actor=admin_user, tx_hash=tx)
        assert executed.state == "executed"
        with pytest.raises(Refusal, match="already executed"):
            services.proposal_cancel(proposal=executed, actor=admin_user, reason="Too late.")
    kinds = list(ProposalEvent.objects.filter(proposal=proposal).values_list("kind", flat=True))
    assert kinds == ["created", "activated", "closed", "executed"]


def test_quorum_not_met_and_rejected_outcomes(make_proposal, ballot, post_vote, dev_accounts, client):
    unmet = make_proposal("basic", quorum="20000")
    post_vote(unmet.number, ballot(dev_accounts[1], unmet, 1))
    rejected = make_proposal("basic", title="Against wins")
    post_vote(rejected.number, ballot(dev_accounts[1], rejected, 2))
    post_vote(rejected.number, ballot(dev_accounts[2], rejected, 1))
    with time_machine.travel(unmet.end + timedelta(minutes=1), tick=False):
        assert client.get(f"/api/v1/proposals/{unmet.number}/results").json()["outcome"] == "quorum_not_met"
        answer = client.get(f"/api/v1/proposals/{rejected.number}/results").json()
        assert answer["outcome"] == "rejected" and answer["quorum_reached"] is True


def test_percent_quorum_is_fixed_in_tokens_at_activation(make_proposal):
    proposal = make_proposal("basic", quorum="10", quorum_kind="percent")
    assert Decimal(proposal.quorum) > 0


def test_cancel_needs_an_admin_and_a_reason(make_proposal, dev_accounts, admin_user, make_user):
    proposal = make_proposal("basic")
    someone = make_user(dev_accounts[2].address)
    with pytest.raises(Refusal, match="Only an admin"):
        services.proposal_cancel(proposal=proposal, actor=someone, reason="No.")
    with pytest.raises(Refusal, match="Say why"):
        services.proposal_cancel(proposal=proposal, actor=admin_user, reason=" ")
    services.proposal_cancel(proposal=proposal, actor=admin_user, reason="Superseded by LIP-9.")
    assert Proposal.objects.get(pk=proposal.pk).state == "cancelled"
    assert ProposalEvent.objects.get(proposal=proposal, kind="cancelled").note == "Superseded by LIP-9."


def test_only_the_author_edits_and_only_a_draft(make_proposal, dev_accounts, settled_chain, make_user):
    author = make_user(dev_accounts[1].address)
    draft = make_proposal("single-choice", ["A", "B"], activate=False, author=author)
    other = make_user(dev_accounts[2].address)
    with pytest.raises(Refusal, match="Only the author"):
        services.proposal_update(proposal=draft, editor=other, title="Mine now")
    services.proposal_update(proposal=draft, editor=author, title="Clearer title", choices=["A", "B", "C"])
    assert Proposal.objects.get(pk=draft.pk).choices == ["A", "B", "C"]
    services.proposal_activate(proposal=draft, actor=author)
    with pytest.raises(Refusal, match="no longer a draft"):
        services.proposal_update(proposal=Proposal.objects.get(pk=draft.pk), editor=author, title="Sneaky")


def test_proposal_threshold_refuses_a_wallet_without_weight(settled_chain, stranger, make_user):
    user = make_user(stranger.address)
    now = timezone.now()
    with pytest.raises(Refusal, match="You need at least 1 voting weight"):
        services.proposal_create(
            author=user, title="Free money", body="Please.", start=now, end=now + timedelta(days=1)
        )
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"title": ""}, "needs a title"),
        ({"body": "x" * 20001}, "body is too long"),
        ({"voting_type": "single-choice", "choices": ["Only one"]}, "at least two choices"),
        ({"voting_type": "approval", "choices": [str(i) for i in range(11)]}, "at most 10"),
        ({"voting_type": "approval", "choices": ["Same", "same"]}, "different"),
        ({"voting_type": "plurality"}, "Unknown voting type"),
        ({"end_before_start": True}, "must end after it starts"),
        ({"quorum_value": "-1"}, "at least zero"),
        ({"quorum_kind": "percent", "quorum_value": "101"}, "between 0 and 100"),
    ],
)
def test_bad_proposal_fields_are_refused_and_nothing_is_written(change, sentence, admin_user):
    now = timezone.now()
    fields = {"title": "Raise the cap", "body": "Because.", "start": now, "end": now + timedelta(days=2)}
    if change.pop("end_before_start", False):
        fields["end"] = now - timedelta(hours=1)
    fields.update(change)
    with pytest.raises(Refusal, match=sentence):
        services.proposal_create(author=admin_user, **fields)
    assert not Proposal.objects.exists()


def test_open_proposals_per_author_are_limited(settled_chain, dev_accounts, monkeypatch, make_user):
    from django.conf import settings as django_settings

    monkeypatch.setitem(django_settings.PORTAL, "PROPOSAL_MAX_OPEN_PER_AUTHOR", 1)
    author = make_user(dev_accounts[1].address)
    now = timezone.now()
    fields = {"title": "One", "body": "Body.", "start": now, "end": now + timedelta(days=1), "with_thread": False}
    services.proposal_create(author=author, **fields)
    with pytest.raises(Refusal, match="at most 1 may be open"):
        services.proposal_create(author=author, **fields)
    assert Proposal.objects.count() == 1


def test_each_proposal_gets_a_discussion_thread(make_proposal, client):
    proposal = make_proposal("basic")
    assert proposal.thread is not None and proposal.label in proposal.thread.title
    assert client.get(f"/api/v1/proposals/{proposal.number}").json()["thread"] == proposal.thread_id
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert proposal.thread.get_absolute_url() in page


def test_a_comment_on_the_proposal_thread_tells_its_author(make_proposal, dev_accounts,
                                                         django_capture_on_commit_callbacks, make_user):
    from portal.discussion.services import comment_post
    from portal.notifications.models import Notification

    proposal = make_proposal("basic")
    assert proposal.thread.author_id == proposal.author_id
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(thread=proposal.thread, author=make_user(dev_accounts[3].address), body="Why 10% and not 12%?")
    assert Notification.objects.filter(recipient=proposal.author, verb="comment_reply").count() == 1


def test_the_proposal_page_shows_the_latest_visible_comments(make_proposal, client, dev_accounts, make_user):
    from portal.discussion.models import Comment
    from portal.discussion.services import comment_post

    proposal = make_proposal("basic")
    author = make_user(dev_accounts[2].address)
    comment_post(thread=proposal.thread, author=author, body="The reserve covers **twice** the target.")
    hidden = comment_post(thread=proposal.thread, author=author, body="Something a moderator hid.")
    Comment.objects.filter(pk=hidden.pk).update(hidden=True)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert 'data-testid="thread-embed"' in page
    assert "The reserve covers twice the target." in page and "1 comment →" in page
    assert "Something a moderator hid." not in page


def test_proposal_page_query_count_does_not_grow_with_votes(
    make_proposal, ballot, post_vote, dev_accounts, client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    proposal = make_proposal("single-choice", ["A", "B"])
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    with CaptureQueriesContext(connection) as few:
        assert client.get(proposal.get_absolute_url()).status_code == HTTPStatus.OK
    # Forty more voters straight into the table (their signatures do not matter to the page).
    Vote.objects.bulk_create(
        Vote(proposal=proposal, voter=f"0x{i:040x}", choice="2", timestamp=int(time.time()), signature="0x",
             receipt="0x", weight="1", weight_sort=1.0)
        for i in range(1, 41)
    )
    with django_assert_max_num_queries(len(few)):
        response = client.get(proposal.get_absolute_url())
    assert response.status_code == HTTPStatus.OK


def test_list_filters_search_and_htmx_fragment(make_proposal, client):
    make_proposal("basic", title="Raise the USDC cap")
    make_proposal("basic", title="Grants round", activate=False)
    page = client.get("/proposals/").content.decode()
    assert "Raise the USDC cap" in page and "Grants round" in page
    active = client.get("/proposals/?state=active").content.decode()
    assert "Raise the USDC cap" in active and "Grants round" not in active
    found = client.get("/proposals/?q=grants", headers={"HX-Request": "true"}).content.decode()
    assert "Grants round" in found and "USDC" not in found and "<html" not in found
    assert client.get("/api/v1/proposals?state=draft").json()["count"] == 1
    bad = client.get("/api/v1/proposals?state=open")
    assert bad.status_code == HTTPStatus.BAD_REQUEST and "Unknown state" in bad.json()["error"]
    home = client.get("/proposals/?fragment=home").content.decode()
    assert "Raise the USDC cap" in home and "Grants round" not in home


def test_draft_form_creates_and_previews(settled_chain, admin_user, client):
    client.force_login(admin_user)
    preview = client.post("/proposals/preview/", {"body": "**bold** <script>x</script>"}).content.decode()
    assert "<strong>bold</strong>" in preview and "<script>" not in preview
    assert client.get("/proposals/new/").status_code == HTTPStatus.OK
    response = client.post(
        "/proposals/new/",
        {"title": "Form proposal", "body": "Body", "category": "treasury", "voting_type": "approval",
         "choices": "One\nTwo\nThree", "start": "2030-01-01T10:00", "end": "2030-01-03T10:00",
         "quorum_kind": "amount", "quorum_value": "100"},
    )
    assert response.status_code == HTTPStatus.FOUND
    proposal = Proposal.objects.get(title="Form proposal")
    assert proposal.choices == ["One", "Two", "Three"] and proposal.author == admin_user
    refused = client.post(
        "/proposals/new/",
        {"title": "Bad", "body": "Body", "category": "treasury", "voting_type": "approval", "choices": "Only",
         "start": "2030-01-01T10:00", "end": "2030-01-03T10:00", "quorum_kind": "amount", "quorum_value": "0"},
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST and "at least two choices" in refused.content.decode()


def test_voters_are_notified_once_when_a_proposal_closes(make_proposal, ballot, post_vote, dev_accounts, client, make_user,
                                                        run_effects):
    from portal.notifications.models import Notification

    voter = make_user(dev_accounts[1].address)
    proposal = make_proposal("basic", hours=1)
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        assert services.proposals_close_due() == 1
        assert services.proposals_close_due() == 0
        client.get(proposal.get_absolute_url())
        run_effects()
    notes = Notification.objects.filter(recipient=voter, verb="proposal_closed")
    assert notes.count() == 1 and proposal.label in notes.get().text


def test_the_signed_in_voter_sees_their_weight_and_then_their_receipt(make_proposal, ballot, post_vote, dev_accounts, client, make_user):
    voter = make_user(dev_accounts[1].address)
    proposal = make_proposal("basic")
    client.force_login(voter)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "You vote with <strong>12,200.00</strong> voting power." in page
    receipt = post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).json()["receipt"]
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert f'Signed receipt <code title="{receipt}">{receipt[:6]}…{receipt[-4:]}</code>' in page
    assert 'data-testid="my-vote"' in page and '<a href="/help/#receipts">verify it</a>' in page


def test_the_proposal_page_says_when_power_was_measured_and_what_quorum_still_needs(
    make_proposal, ballot, post_vote, dev_accounts, client
):
    """Was: "snapshot block 31", "Weights erc20-votes × 1 0x5FbD…", "Quorum 3,100.00 of 0.00 reached"."""
    proposal = make_proposal("basic", quorum="20000")
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))  # 12,200 For
    page = client.get(proposal.get_absolute_url()).content.decode()
    measured = f"block {proposal.snapshot_block} ({proposal.snapshot_time:%-d %b, %H:%M} UTC)"
    assert f"Your voting power was measured at {measured}, when voting opened" in page
    assert 'href="/help/#snapshot">What is this?</a>' in page
    assert "Needs 7,800.00 more to reach quorum (12,200.00 of 20,000.00 counted)" in page
    assert "Tokens delegated to you (yourself included): 1 vote each" in page
    assert "Badges (NFTs) in your wallet: 100 votes each" in page
    assert "erc20-votes" not in page and "snapshot block" not in page and "EIP-712" not in page

    no_quorum = make_proposal("basic", quorum="0", title="No quorum")
    assert "<dd data-testid=\"quorum\">None needed</dd>" in client.get(no_quorum.get_absolute_url()).content.decode()


def test_page_actions_open_cancel_and_refuse_strangers(make_proposal, admin_user, dev_accounts, client, make_user):
    draft = make_proposal("basic", activate=False)
    stranger = make_user(dev_accounts[3].address)
    client.force_login(stranger)
    page = client.post(f"/proposals/{draft.number}/activate/", follow=True).content.decode()
    assert "Only the author or an admin can open this proposal" in page
    assert Proposal.objects.get(pk=draft.pk).state == "draft"
    client.force_login(admin_user)
    client.post(f"/proposals/{draft.number}/activate/")
    assert Proposal.objects.get(pk=draft.pk).state == "active"
    client.post(f"/proposals/{draft.number}/cancel/", {"reason": "Duplicate."})
    opened = Proposal.objects.get(pk=draft.pk)
    assert opened.state == "cancelled" and opened.cancel_reason == "Duplicate."
    assert "Duplicate." in client.get(opened.get_absolute_url()).content.decode()


def test_page_cancel_and_execute_refuse_bad_input_with_a_sentence(make_proposal, admin_user, ballot, post_vote, dev_accounts, client, make_user):
    proposal = make_proposal("basic", hours=1)
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    client.force_login(admin_user)
    page = client.post(f"/proposals/{proposal.number}/cancel/", {"reason": "  "}, follow=True)
    assert page.status_code == HTTPStatus.OK and "Say why the proposal is cancelled." in page.content.decode()
    page = client.post(f"/proposals/{proposal.number}/execute/", {"tx_hash": "0x" + "ab" * 32}, follow=True).content.decode()
    assert "only a closed proposal can be executed" in page
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        page = client.post(f"/proposals/{proposal.number}/execute/", {"tx_hash": "0x123"}, follow=True).content.decode()
        assert "Give the transaction hash: 0x followed by 64 hex digits." in page
        client.force_login(make_user(dev_accounts[3].address))
        page = client.post(f"/proposals/{proposal.number}/execute/", {"tx_hash": "0x" + "ab" * 32}, follow=True)
        assert "Only an admin can mark a proposal executed." in page.content.decode()
    fresh = Proposal.objects.get(pk=proposal.pk)
    assert fresh.cancelled_at is None and fresh.executed_at is None and fresh.execution_tx == ""
    assert not ProposalEvent.objects.filter(proposal=proposal, kind__in=["cancelled", "executed"]).exists()


def test_a_proposal_that_did_not_pass_cannot_be_executed(make_proposal, admin_user, ballot, post_vote, dev_accounts):
    proposal = make_proposal("basic", hours=1)
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2))
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        with pytest.raises(Refusal, match="did not pass, so it cannot be executed"):
            services.proposal_mark_executed(proposal=proposal, actor=admin_user, tx_hash="0x" + "ab" * 32)
    assert Proposal.objects.get(pk=proposal.pk).executed_at is None


def test_the_page_shows_each_person_only_the_actions_the_services_allow(make_proposal, admin_user, dev_accounts, client, make_user):
    from portal.accounts.models import User

    author = make_user(dev_accounts[1].address)
    draft = make_proposal("basic", activate=False, author=author)
    superuser = User.objects.create(username="root", is_superuser=True)  # an admin without is_staff
    seen = {}
    for name, user in (("author", author), ("stranger", make_user(dev_accounts[3].address)), ("superuser", superuser)):
        client.force_login(user)
        page = client.get(draft.get_absolute_url()).content.decode()
        seen[name] = [a for a in ("Edit draft", "Open for voting", "Cancel proposal", "Mark executed") if a in page]
    client.logout()
    assert "Open for voting" not in client.get(draft.get_absolute_url()).content.decode()
    assert seen == {
        "author": ["Edit draft", "Open for voting"],
        "stranger": [],
        "superuser": ["Open for voting", "Cancel proposal"],
    }


def test_the_home_page_card_loads_the_open_proposals(db, client):
    page = client.get("/").content.decode()
    assert 'data-testid="home-proposals"' in page and "/proposals/?fragment=home" in page
    assert "No vote is open right now" in client.get("/proposals/?fragment=home").content.decode()


def test_the_health_sampler_records_closes_and_notifies_voters(make_proposal, ballot, post_vote, dev_accounts, make_user,
                                                              run_effects):
    from portal.effects.models import Effect
    from portal.health.sampler import Sampler
    from portal.notifications.models import Notification

    voter = make_user(dev_accounts[1].address)
    proposal = make_proposal("basic", hours=1)
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        Sampler().run_once(force=False)
    assert Proposal.objects.get(pk=proposal.pk).close_recorded_at is not None
    # The voters' notice queued with the close, and what the activation queued before it: the members' "open for
    # voting" and the snapshot-weight read-ahead. (After DIGEST_HOUR the same tick also queues the day's digest run,
    # so the effects are named rather than counted: the test passes at any hour.)
    run_effects()
    done = set(Effect.objects.filter(state=Effect.State.DONE).values_list("key", flat=True))
    assert {f"notify:proposal-closed:{proposal.pk}", f"notify:proposal-opened:{proposal.pk}",
            f"snapshot-weights:{proposal.pk}"} <= done
    assert not Effect.objects.exclude(state=Effect.State.DONE).exists()
    assert Notification.objects.filter(recipient=voter, verb="proposal_closed").count() == 1


def test_a_member_of_the_admins_group_opens_cancels_and_executes(
    make_proposal, ballot, post_vote, dev_accounts, client, make_user
):
    member = make_user(dev_accounts[4].address, groups=("admins",))
    assert not (member.is_staff or member.is_superuser)
    draft = make_proposal("basic", activate=False, author=make_user(dev_accounts[1].address))
    client.force_login(member)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "Open for voting" in page and "Cancel proposal" in page and "Edit draft" not in page
    opened = services.proposal_activate(proposal=draft, actor=member)
    post_vote(opened.number, ballot(dev_accounts[1], opened, 1))
    with time_machine.travel(opened.end + timedelta(minutes=1), tick=False):
        assert "Mark executed" in client.get(opened.get_absolute_url()).content.decode()
        executed = services.proposal_mark_executed(proposal=opened, actor=member, tx_hash="0x" + "cd" * 32)
    assert executed.state == "executed"
    other = make_proposal("basic", title="Another")
    services.proposal_cancel(proposal=other, actor=member, reason="Superseded.")
    assert Proposal.objects.get(pk=other.pk).state == "cancelled"
    kinds = list(ProposalEvent.objects.filter(proposal=opened).values_list("kind", flat=True))
    assert kinds == ["created", "activated", "closed", "executed"]  # executing records the pending close first


def test_an_unknown_proposal_page_is_a_404_sentence(db, client):
    response = client.get("/proposals/999/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is no proposal LIP-999." in response.content.decode()
