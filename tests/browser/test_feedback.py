"""The feedback board as people use it: post, vote, get told live; and screenshots of every page it adds."""

import pytest
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.feedback import services, support
from portal.feedback.models import Post, Tag, Vote

from .conftest import DESKTOP, PHONE, wait_for_socket

pytestmark = pytest.mark.browser
# The machine may be busy (2 cores, several suites at once): live updates get more time than Playwright's 5 s.
LIVE = 20_000


def test_post_vote_and_live_notification(live_url, signed_in_page, dev_accounts):
    User.objects.create(username=dev_accounts[0].address, is_staff=True)
    existing = services.post_create(
        author=User.objects.create(username="earlier"), kind="idea", title="Lower borrow rates for stablecoins", body=""
    )

    author = signed_in_page(dev_accounts[1])
    author.goto(live_url + "/feedback/new/")
    author.get_by_label("Idea").check()
    author.get_by_test_id("title").press_sequentially("Borrow rates for USDC", delay=20)
    expect(author.get_by_test_id("similar-posts")).to_contain_text(existing.title, timeout=LIVE)  # duplicate warning while typing
    author.get_by_test_id("title").fill("A USDC lending market")
    author.get_by_test_id("body").fill("Stablecoin deposits, please.")
    author.get_by_test_id("submit-post").click()
    expect(author.locator("h1")).to_contain_text("A USDC lending market", timeout=LIVE)
    post = Post.objects.get(title="A USDC lending market")
    wait_for_socket(author, ".bell-socket", timeout=LIVE)
    expect(author.get_by_test_id("notification-count")).to_be_hidden(timeout=LIVE)

    voter = signed_in_page(dev_accounts[2])
    voter.goto(live_url + "/feedback/")
    button = voter.locator(f"#vote-{post.pk} [data-testid=vote-button]")
    button.click()
    expect(voter.locator(f"#vote-{post.pk} [data-testid=vote-count]")).to_have_text("1", timeout=LIVE)
    expect(voter.locator(f"#vote-{post.pk} [data-testid=vote-button]")).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    voter.locator(f"#vote-{post.pk} [data-testid=vote-button]").click()  # toggles off …
    expect(voter.locator(f"#vote-{post.pk} [data-testid=vote-count]")).to_have_text("0", timeout=LIVE)
    voter.locator(f"#vote-{post.pk} [data-testid=vote-button]").click()  # … and on again
    expect(voter.locator(f"#vote-{post.pk} [data-testid=vote-count]")).to_have_text("1", timeout=LIVE)
    assert Vote.objects.filter(post=post).count() == 1
    wait_for_socket(voter, ".bell-socket", timeout=LIVE)

    staff = signed_in_page(dev_accounts[0])
    staff.goto(live_url + post.get_absolute_url())
    staff.get_by_test_id("status-select").select_option("planned")
    staff.get_by_test_id("status-note-input").fill("On the roadmap for next month.")
    staff.get_by_test_id("status-submit").click()
    expect(staff.get_by_test_id("status-note")).to_contain_text("On the roadmap for next month.", timeout=LIVE)

    # The author and the voter hear about it live, without reloading; the bell counts it.
    for page in (author, voter):
        expect(page.get_by_test_id("notification-count")).to_have_text("1", timeout=LIVE)
        expect(page.get_by_test_id("notification-toast")).to_contain_text("is now Planned", timeout=LIVE)
    author.get_by_test_id("notification-bell").click()
    expect(author.get_by_test_id("notification-list")).to_contain_text("“A USDC lending market” is now Planned", timeout=LIVE)


def test_staff_answer_the_gold_question_first_and_the_asker_is_told_live(
    live_url, signed_in_page, dev_accounts, contracts
):
    from datetime import timedelta

    from django.utils import timezone

    User.objects.create(username=dev_accounts[0].address, is_staff=True)
    bronze_user = User.objects.create(username=dev_accounts[3].address)
    gold_user = User.objects.create(username=dev_accounts[1].address)
    older = services.post_create(author=bronze_user, kind="question", title="Why did my rate change?", body="Hm.")
    Post.objects.filter(pk=older.pk).update(created=timezone.now() - timedelta(hours=5))
    gold = services.post_create(author=gold_user, kind="question", title="How do I repay early?", body="Fees?")

    asker = signed_in_page(dev_accounts[1])
    asker.goto(live_url + gold.get_absolute_url())
    wait_for_socket(asker, ".bell-socket", timeout=LIVE)

    staff = signed_in_page(dev_accounts[0])
    staff.goto(live_url + "/feedback/queue/")
    first = staff.locator("[data-testid=queue] > li").first
    expect(first).to_contain_text(gold.title, timeout=LIVE)  # Gold before the older Bronze question
    expect(first).to_contain_text("Gold", timeout=LIVE)
    first.get_by_role("button", name="Claim").click()
    staff.get_by_test_id("answer-body").fill("Any time, **no fee**: open Positions and press Repay.")
    staff.get_by_test_id("answer-submit").click()
    expect(staff.get_by_test_id("official-answer")).to_contain_text("no fee", timeout=LIVE)

    expect(asker.get_by_test_id("notification-count")).to_have_text("1", timeout=LIVE)
    expect(asker.get_by_test_id("notification-toast")).to_contain_text("Staff answered your question", timeout=LIVE)
    asker.reload()
    asker.get_by_test_id("accept").click()
    expect(asker.get_by_test_id("post-status")).to_have_text("Done", timeout=LIVE)
    gold.refresh_from_db()
    assert gold.accepted_at and gold.first_response_at and gold.claimed_by.username == dev_accounts[0].address


@pytest.fixture
def demo_board(contracts, dev_accounts):
    """A board with every status, a merged duplicate, an answered question and a queue, authored by tiered wallets."""
    users = [User.objects.get_or_create(username=a.address)[0] for a in dev_accounts]
    admin = users[0]
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    admin.refresh_from_db()
    Tag.objects.create(slug="lending", name="Lending")
    Tag.objects.create(slug="ux", name="UX")
    make = services.post_create
    ideas = [
        make(author=users[1], kind="idea", title="Add a USDC lending market", body="Stablecoin deposits with a **low** borrow rate.", tag_slugs=["lending"]),
        make(author=users[2], kind="idea", title="Dark mode for the dashboard", body="", tag_slugs=["ux"]),
        make(author=users[3], kind="bug", title="Repay button keeps spinning on mobile", body="Safari on iOS 18."),
        make(author=users[4], kind="idea", title="Email alerts before liquidation", body="A heads-up at 80% LTV."),
        make(author=users[2], kind="idea", title="A stablecoin market", body="USDC or DAI."),
    ]
    for i, voter in enumerate(users[1:]):
        for post in ideas[: 4 - i % 3]:
            if post.author_id != voter.pk:
                services.vote_toggle(post=post, user=voter)
    services.post_status_set(post=ideas[0], by=admin, status="planned", note="Scheduled after the audit of the new market.")
    services.post_status_set(post=ideas[1], by=admin, status="in_progress", note="Design is done; building it now.")
    services.post_status_set(post=ideas[2], by=admin, status="done", note="Fixed in release 1.4.")
    services.post_merge(source=ideas[4], target=ideas[0], by=admin)
    asked = [
        make(author=users[4], kind="question", title="Why is my health factor lower than yesterday?", body="No new borrows."),
        make(author=users[1], kind="question", title="How do I delegate my loyalty votes?", body="To a friend."),
        make(author=users[3], kind="question", title="Where do I see my interest earned?", body="?"),
    ]
    support.question_answer(post=asked[2], by=admin, body="Open **Positions** and expand the market.")
    return {"admin": dev_accounts[0], "idea": ideas[0], "question": asked[2]}


def test_screenshots(live_url, signed_in_page, demo_board, dev_accounts, screenshot):
    """Board, post, question, roadmap and queue as staff; the notification centre as an author told of changes."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for scheme in ("light", "dark"):
            staff = signed_in_page(demo_board["admin"], viewport=viewport, color_scheme=scheme)
            author = signed_in_page(dev_accounts[1], viewport=viewport, color_scheme=scheme)
            for page, name, path in [
                (staff, "board", "/feedback/"),
                (staff, "post", demo_board["idea"].get_absolute_url()),
                (staff, "question", demo_board["question"].get_absolute_url()),
                (staff, "roadmap", "/feedback/roadmap/"),
                (staff, "queue", "/feedback/queue/"),
                (author, "notifications", "/notifications/"),
                (author, "new", "/feedback/new/"),
            ]:
                page.goto(live_url + path)
                expect(page.locator("main h1")).to_be_visible(timeout=LIVE)
                screenshot(page, f"feedback-{name}-{size}-{scheme}")
            staff.context.close()
            author.context.close()
