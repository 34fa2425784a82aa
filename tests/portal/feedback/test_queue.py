"""The support queue reads tiers from real LoyaltyToken balances on anvil (the demo seeding: #1 Gold, #2 Silver,
#3 and #4 Bronze, a stranger no tier)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.utils import timezone

from governance.deploy import contract
from portal.accounts.models import User
from portal.feedback import selectors, services, support
from portal.feedback.models import Post

pytestmark = [pytest.mark.django_db, pytest.mark.chain]
TOKEN = 10**18


def ask(account, *, hours_ago: int) -> Post:
    user, _ = User.objects.get_or_create(username=account.address)
    post = services.post_create(author=user, kind="question", title=f"Question from {account.address[:8]}", body="?")
    Post.objects.filter(pk=post.pk).update(created=timezone.now() - timedelta(hours=hours_ago))
    post.refresh_from_db()
    return post


def test_queue_orders_by_tier_then_age_and_follows_balances(contracts, dev_accounts, stranger, minter, transact, node,
                                                             chain_snapshot):
    nobody = ask(stranger, hours_ago=50)
    bronze_old = ask(dev_accounts[3], hours_ago=40)
    bronze_new = ask(dev_accounts[4], hours_ago=2)
    silver = ask(dev_accounts[2], hours_ago=30)
    gold = ask(dev_accounts[1], hours_ago=1)
    items = selectors.queue_items()
    assert [i.post for i in items] == [gold, silver, bronze_old, bronze_new, nobody]
    assert [i.tier.slug if i.tier else None for i in items] == ["gold", "silver", "bronze", "bronze", None]

    # The stranger earns Gold: once the tier cache expires, their question jumps the queue (oldest Gold first).
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    transact(minter, token, "mint", stranger.address, 20_000 * TOKEN)
    cache.clear()
    assert [i.post for i in selectors.queue_items()] == [nobody, gold, silver, bronze_old, bronze_new]


def test_queue_figures_and_page(contracts, dev_accounts, client, chain_snapshot):
    staff = User.objects.create(username="staffer", is_staff=True)
    gold = ask(dev_accounts[1], hours_ago=3)
    bronze = ask(dev_accounts[3], hours_ago=5)
    support.question_answer(post=gold, by=staff, body="Here you go.")
    Post.objects.filter(pk=gold.pk).update(first_response_at=gold.created + timedelta(minutes=30))
    support.question_answer(post=bronze, by=staff, body="And you.")
    Post.objects.filter(pk=bronze.pk).update(first_response_at=bronze.created + timedelta(minutes=90))
    ask(dev_accounts[2], hours_ago=1)
    figures = selectors.queue_figures()
    assert figures["open"] == 3 and figures["unanswered"] == 1
    assert figures["median_first_response"] == 60 * 60
    by_tier = {row["tier"].slug: row for row in figures["per_tier"]}
    assert by_tier["gold"]["median_first_response"] == 30 * 60 and by_tier["silver"]["open"] == 1

    client.force_login(staff)
    page = client.get("/feedback/queue/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "1 h" in html and html.index(gold.title) < html.index(bronze.title)


def test_queue_is_for_staff_only(client, db):
    assert client.get("/feedback/queue/").status_code == HTTPStatus.UNAUTHORIZED
    client.force_login(User.objects.create(username="member"))
    page = client.get("/feedback/queue/")
    assert page.status_code == HTTPStatus.FORBIDDEN and b"The support queue is for staff only." in page.content
