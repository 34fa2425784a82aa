"""Alert levels, the sampler's tick (batched reads, crossings with hysteresis), liquidations from the pool's events,
and the loan socket — on the seeded pool, with prices moved on the demo feeds."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from governance.deploy import contract
from portal.feedback import selectors as feedback_selectors
from portal.feedback import services as feedback_services
from portal.lending.consumers import LoanConsumer
from portal.lending.models import Band, Liquidation, Position
from portal.lending.services import positions_tick
from portal.notifications.models import Notification

from ..notifications.test_notify import in_own_loop

pytestmark = [pytest.mark.django_db]
TOKEN = 10**18


def weth_price_for(health: str) -> Decimal:
    """The WETH price at which anvil #2 (20 WETH, threshold 82.5 %, 25,000 DUSD owed) has this health factor."""
    return (Decimal(health) * 25_000 / (20 * Decimal("0.825"))).quantize(Decimal("0.01"))


def save_levels(client, address, close_at, near_at):
    return client.post("/lending/alerts/", {"address": address, "close_at": close_at, "near_at": near_at})


@pytest.mark.parametrize(("close_at", "near_at", "sentence"), [
    ("abc", "1.1", "The “getting close” level “abc” is not a number; give a health factor such as 1.5."),
    ("1.5", "", "The “liquidation is near” level “” is not a number; give a health factor such as 1.5."),
    ("1.5", "NaN", "The “liquidation is near” level “NaN” is not a number; give a health factor such as 1.5."),
    ("0.9", "0.8", "The “getting close” level must be 1 or more: at a health factor under 1 the loan can already be "
                   "liquidated."),
    ("1.5", "0.99", "The “liquidation is near” level must be 1 or more: at a health factor under 1 the loan can "
                    "already be liquidated."),
    ("1.2", "1.3", "The “liquidation is near” level must be below the “getting close” level."),
])
def test_bad_alert_levels_are_refused_and_nothing_is_saved(client, comfortable, dev_accounts, close_at, near_at,
                                                           sentence):
    client.force_login(comfortable)
    response = save_levels(client, dev_accounts[2].address, close_at, near_at)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert sentence.replace("“", "&ldquo;") in response.content.decode() or sentence in response.content.decode()
    assert not Position.objects.exists()


def test_levels_only_for_your_own_wallet(client, comfortable, dev_accounts):
    client.force_login(comfortable)
    response = save_levels(client, dev_accounts[3].address, "2", "1.2")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "only for a wallet linked to your account" in response.content.decode()
    assert not Position.objects.exists()


def test_levels_are_saved(client, comfortable, dev_accounts, django_assert_num_queries):
    client.force_login(comfortable)
    with django_assert_num_queries(8):
        response = save_levels(client, dev_accounts[2].address, "2.5", "1.25")
    assert response.status_code == HTTPStatus.FOUND
    position = Position.objects.get(address=dev_accounts[2].address)
    assert (position.close_at, position.near_at, position.user) == (Decimal("2.5"), Decimal("1.25"), comfortable)


def test_tick_alerts_once_per_crossing_with_hysteresis(comfortable, weth_feed, set_price, chain_snapshot, run_effects):
    def tick_and_count():
        positions_tick(force=True)
        run_effects()
        return Notification.objects.filter(recipient=comfortable, verb="loan_risk").count()

    assert tick_and_count() == 0
    assert Position.objects.get(user=comfortable).band == Band.SAFE
    set_price(weth_feed, weth_price_for("1.45"))
    assert tick_and_count() == 1
    text = Notification.objects.get(verb="loan_risk").text
    assert text.startswith("Your loan's health factor fell to 1.45, under your “getting close” level of 1.5.")
    assert "It is liquidated if WETH falls below $1,515." in text
    for health in ("1.51", "1.46", "1.52", "1.45"):  # wiggling around 1.5: no storm
        set_price(weth_feed, weth_price_for(health))
        assert tick_and_count() == 1, health
    set_price(weth_feed, weth_price_for("1.6"))  # clearly back above: re-armed
    assert tick_and_count() == 1 and Position.objects.get(user=comfortable).band == Band.SAFE
    set_price(weth_feed, weth_price_for("1.05"))  # straight past both levels: one alert, the worse one
    assert tick_and_count() == 2
    assert Notification.objects.filter(verb="loan_risk").first().text.startswith("Liquidation is near")


def test_tick_reads_every_watched_wallet_and_borrower_in_one_go(comfortable, borrower, dev_accounts, pool):
    report = positions_tick(force=True)
    assert report.read >= 3 and report.unreadable == 0  # both users (#2, #3) and the borrower nobody signed in for (#4)
    for account in dev_accounts[2:5]:
        position = Position.objects.get(address=account.address)
        assert position.health_factor == Decimal(pool.functions.getUserAccountData(account.address).call()[5]) / 10**18
    assert Position.objects.get(address=dev_accounts[3].address).band == Band.NEAR


def test_a_liquidation_tells_the_user_and_queues_their_question_first(
    node, borrower, contracts, dev_accounts, minter, transact, weth_feed, set_price, pool, chain_snapshot, make_user,
    run_effects,
):
    positions_tick(force=True)
    gold_user = make_user(dev_accounts[1].address)
    gold = feedback_services.post_create(author=gold_user, kind="question", title="Gold question", body="?")
    dollar = contract(node, "DemoDollar", contracts["DemoDollar"])
    transact(minter, dollar, "mint", minter.address, 10_000 * TOKEN)
    transact(minter, dollar, "approve", pool.address, 2**256 - 1)
    set_price(weth_feed, 2_500)
    transact(minter, pool, "liquidate", contracts["WETH"], dev_accounts[3].address, 1_000 * TOKEN)

    report = positions_tick(force=True)
    assert report.liquidations == 1
    liquidation = Liquidation.objects.get()
    assert (liquidation.account, liquidation.user, liquidation.collateral_symbol) == (
        dev_accounts[3].address, borrower, "WETH")
    assert liquidation.debt_covered == 1_000 * TOKEN
    run_effects()
    text = Notification.objects.get(recipient=borrower, verb="liquidated").text
    assert text.startswith(f"Your loan was liquidated at block {liquidation.block}: the health factor fell under 1, "
                           "so a liquidator repaid 1,000.00 DUSD of your debt and took 0.42 WETH")
    assert positions_tick(force=True).liquidations == 0  # each event once

    mine = feedback_services.post_create(author=borrower, kind="question", title="What happened?", body="?")
    items = feedback_selectors.queue_items()
    assert [i.post for i in items] == [mine, gold]  # bronze, but liquidated: ahead of gold
    assert items[0].liquidated and not items[1].liquidated


@pytest.mark.django_db(transaction=True)
def test_the_loan_socket_moves_when_the_price_moves(borrower, dev_accounts, weth_feed, set_price, chain_snapshot):
    positions_tick(force=True)
    set_price(weth_feed, 2_900)

    async def run():
        socket = WebsocketCommunicator(LoanConsumer.as_asgi(), "/ws/lending/")
        socket.scope["user"] = borrower
        assert (await socket.connect())[0]
        await sync_to_async(positions_tick)(force=True)
        html = await socket.receive_from(timeout=5)
        assert f'id="loan-{dev_accounts[3].address.lower()}"' in html and 'hx-swap-oob="true"' in html
        assert "can be liquidated now" in html or "liquidation is near" in html
        await socket.disconnect()

    in_own_loop(run)()
