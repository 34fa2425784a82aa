from http import HTTPStatus

import pytest
from django.db import connection

from governance.models import Proposal
from portal.accounts.models import User
from portal.feedback import selectors, services
from portal.feedback.models import Post
from portal.errors import Refusal

pytestmark = pytest.mark.django_db
ADMIN_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def board(alice):
    make = lambda title, body="": services.post_create(author=alice, kind="idea", title=title, body=body)
    return {
        "usdc": make("Add a USDC lending market", "Stablecoin deposits with a low borrow rate."),
        "dark": make("Dark mode for the dashboard", "Night-time reading."),
        "rates": make("Borrow rates are too high", "Compared to other lending protocols."),
        "wallet": make("Support hardware wallets", "Ledger and Trezor sign-in."),
    }


def titles(posts) -> list[str]:
    return [p.title for p in posts]


def test_suggestions_rank_title_matches_first(board):
    found = selectors.post_similar(text="usdc lending")
    assert found[0] == board["usdc"], (connection.vendor, titles(found))
    assert board["rates"] in found and board["dark"] not in found


def test_suggestions_match_word_prefixes_while_typing(board):
    assert selectors.post_similar(text="hardw")[0] == board["wallet"]
    assert selectors.post_similar(text="dark mo")[0] == board["dark"]


def test_suggestions_ignore_noise_duplicates_and_the_post_itself(board, staff):
    assert selectors.post_similar(text="") == []
    assert selectors.post_similar(text="the and for") == []
    assert selectors.post_similar(text="zzqx") == []
    assert selectors.post_similar(text="'); -- & | !:* zzqx") == []
    services.post_merge(source=board["rates"], target=board["usdc"], by=staff)
    found = selectors.post_similar(text="lending", exclude_id=board["usdc"].pk)
    assert found == []


def test_similar_endpoint_renders_the_suggestions(board, client):
    page = client.get("/feedback/similar/", {"title": "USDC market"})
    assert page.status_code == HTTPStatus.OK
    assert b"Add a USDC lending market" in page.content and b"Dark mode" not in page.content


@pytest.fixture
def admin(db):
    return User.objects.create(username=ADMIN_ADDRESS, is_staff=True)


def test_promote_creates_a_correct_draft_and_links_back(idea, admin, bob, client):
    services.vote_add(post=idea, user=bob)
    proposal = services.post_promote(post=idea, by=admin)
    idea.refresh_from_db()
    assert idea.proposal_number == proposal.number
    assert proposal.title == idea.title and proposal.author == admin and proposal.state == "draft"
    assert proposal.body.startswith("Stablecoin please")
    assert f"]({idea.get_absolute_url()})" in proposal.body and "1 up-vote" in proposal.body
    assert proposal.start < proposal.end
    page = client.get(idea.get_absolute_url())
    assert proposal.label.encode() in page.content and b"Draft" in page.content


@pytest.mark.parametrize(
    ("who", "kind", "expected", "status"),
    [
        ("bob", "idea", "Only staff can promote a post to a proposal.", HTTPStatus.FORBIDDEN),
        ("anon", "idea", "Please sign in with your wallet to promote a post to a proposal.", HTTPStatus.UNAUTHORIZED),
        ("admin", "question", "Only ideas can become proposals.", HTTPStatus.BAD_REQUEST),
    ],
)
def test_bad_promotions_are_refused_and_write_nothing(alice, bob, admin, who, kind, expected, status):
    from django.contrib.auth.models import AnonymousUser

    post = services.post_create(author=alice, kind=kind, title="Something", body="Details")
    by = {"bob": bob, "admin": admin, "anon": AnonymousUser()}[who]
    with pytest.raises(Refusal) as refused:
        services.post_promote(post=post, by=by)
    assert (str(refused.value), refused.value.status) == (expected, status)
    assert not Proposal.objects.exists() and Post.objects.get(pk=post.pk).proposal_number is None


def test_promoting_twice_is_refused(idea, admin):
    services.post_promote(post=idea, by=admin)
    with pytest.raises(Refusal, match="already proposal LIP-1") as refused:
        services.post_promote(post=idea, by=admin)
    assert refused.value.status == HTTPStatus.CONFLICT and Proposal.objects.count() == 1


def test_staff_without_a_wallet_get_the_governance_sentence(idea, make_user):
    staff = make_user(display_name="staffer", staff=True, wallet=False)
    with pytest.raises(Refusal, match="no wallet address") as refused:
        services.post_promote(post=idea, by=staff)
    assert refused.value.status == HTTPStatus.FORBIDDEN and not Proposal.objects.exists()


@pytest.mark.chain
def test_the_post_shows_the_proposal_state_and_result_once_voting_starts(idea, admin, client, contracts, chain_snapshot):
    from django.utils import timezone

    from governance.services import proposal_activate

    proposal = services.post_promote(post=idea, by=admin)
    Proposal.objects.filter(pk=proposal.pk).update(start=timezone.now())
    proposal_activate(proposal=Proposal.objects.get(pk=proposal.pk), actor=admin)
    page = client.get(idea.get_absolute_url()).content.decode()
    assert 'data-testid="proposal-state">Active<' in page
    assert "0 voters" in page and "For" in page and "Against" in page
    assert "LIP-" in client.get("/feedback/").content.decode()  # the board shows the link too
