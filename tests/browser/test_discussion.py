"""Live discussion in real Chromium: two people talk without reloading, an XSS corpus executes nothing, and a
moderator works the review queue. Screenshots of the thread and the queue at desktop/phone, light/dark."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.discussion.models import Comment, ModerationAction
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, comment_edit, comment_post, thread_create

from .conftest import DESKTOP, PHONE, settle, wait_for_socket

pytestmark = pytest.mark.browser

XSS_CORPUS = [
    "<script>window.__pwned = 'script'</script>",
    "[click me](javascript:window.__pwned='link')",
    '<img src=x onerror="window.__pwned=\'onerror\'">',
    "![x](javascript:window.__pwned='img')",
    '<svg onload="window.__pwned=\'svg\'"><circle r="1"/></svg>',
    '<a href="#" onclick="window.__pwned=\'onclick\'">unclosed <b>tag',
    "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
    "<details open ontoggle=\"window.__pwned='toggle'\">x</details>",
    '[x](JaVaScRiPt:window.__pwned="case")',
    "<style>body{display:none}</style><math><mi xlink:href=\"javascript:window.__pwned='math'\">m</mi></math>",
    "`<script>window.__pwned='code'</script>` and <b onmouseover=\"window.__pwned='hover'\">bold</b>",
]


def _person(account, *, moderator: bool = False) -> User:
    user, _ = User.objects.get_or_create(username=account.address)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=60))
    if moderator:
        user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return User.objects.get(pk=user.pk)


@pytest.fixture
def thread(live_url):
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    return thread_create(
        title="Proposal 7: raise the WETH loan-to-value to 80%", category_slug="governance", author=None,
        body="Should we raise the **loan-to-value** of WETH from 75% to 80%? Risk analysis attached.",
    )


def test_comment_typed_in_one_page_appears_in_another(live_url, signed_in_page, dev_accounts, thread, screenshot):
    alice, bob = _person(dev_accounts[1]), _person(dev_accounts[2])
    comment_post(thread=thread, author=bob, body="I think 80% is too aggressive during volatile weeks.")
    pages = []
    for account in (dev_accounts[1], dev_accounts[2]):
        page = signed_in_page(account)
        page.goto(live_url + thread.get_absolute_url())
        wait_for_socket(page, "#thread-live", opened=1)
        pages.append(page)
    first, second = pages
    expect(first.locator("#thread-presence")).to_contain_text("2 reading now")

    first.locator("#composer-body").fill("Oracles have been stable for months. **+1** for 80%.")
    first.get_by_test_id("post-comment").click()
    expect(second.locator("#replies-root")).to_contain_text("Oracles have been stable for months.")
    expect(second.locator("#replies-root strong")).to_have_text("+1")
    expect(first.locator("#composer-body")).to_have_value("")  # the composer is cleared after posting
    expect(first.locator("#replies-root .comment-item")).to_have_count(2)  # delivered once, not twice
    new = Comment.objects.get(author=alice)

    # A reply through the Reply button nests under its parent in the other page.
    second.locator(f"#comment-{new.pk} [data-reply]").click()
    second.locator("#composer-body").fill("Fair, but what about liquidation depth?")
    second.get_by_test_id("post-comment").click()
    expect(first.locator(f"#replies-{new.pk}")).to_contain_text("liquidation depth")

    # An edit through the inline htmx form reaches the other page in place.
    first.locator(f"#comment-{new.pk}").get_by_role("link", name="Edit").click()
    first.locator(f"#edit-{new.pk}").fill("Oracles have been stable for a year. Still **+1** for 80%.")
    first.locator(f"#comment-{new.pk}").get_by_role("button", name="Save").click()
    expect(second.locator(f"#comment-{new.pk}")).to_contain_text("stable for a year")
    expect(second.locator(f"#comment-{new.pk}")).to_contain_text("edited")
    expect(first.locator(f"#comment-{new.pk} .comment__body")).to_contain_text("stable for a year")

    # A dropped connection: the second page posts while the first is away; on reconnect the first catches up.
    first.evaluate(
        """() => { const w = htmx.find('#thread-live')['htmx-internal-data'].webSocket;
                   window.__drop = w.socket.onclose; w.socket.onclose = null;
                   w.socket.addEventListener('close', () => { document.body.dataset.threadSocket = 'dropped'; });
                   w.socket.close(); }"""
    )
    second.locator("#composer-body").fill("Posted while you were offline.")
    second.get_by_test_id("post-comment").click()
    expect(second.locator("#composer-body")).to_have_value("")
    first.locator("body[data-thread-socket=dropped]").wait_for(state="attached")  # nothing more can arrive
    assert "Posted while you were offline." not in first.locator("#replies-root").inner_text()
    first.evaluate("() => window.__drop({code: 1006})")  # the extension sees an abnormal closure and reconnects
    wait_for_socket(first, "#thread-live", opened=2)
    expect(first.locator("#replies-root")).to_contain_text("Posted while you were offline.")
    expect(first.locator("#replies-root .comment-item")).to_have_count(4)

    for name, page in (("alice", first), ("bob", second)):
        screenshot(page, f"discussion-thread-desktop-light-{name}")
    phone = signed_in_page(dev_accounts[1], viewport=PHONE, color_scheme="dark")
    phone.goto(live_url + thread.get_absolute_url())
    screenshot(phone, "discussion-thread-phone-dark")
    dark = signed_in_page(dev_accounts[2], viewport=DESKTOP, color_scheme="dark")
    dark.goto(live_url + thread.get_absolute_url())
    screenshot(dark, "discussion-thread-desktop-dark")


def test_xss_corpus_executes_nothing(live_url, signed_in_page, new_page, dev_accounts, thread):
    author = _person(dev_accounts[3])
    for payload in XSS_CORPUS[:6]:
        comment_post(thread=thread, author=author, body=payload)
    dialogs = []
    reader = new_page()
    reader.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    reader.goto(live_url + thread.get_absolute_url())
    wait_for_socket(reader, "#thread-live", opened=1)

    # The rest arrive live, through the socket and htmx's OOB swaps.
    poster = signed_in_page(dev_accounts[3])
    poster.goto(live_url + thread.get_absolute_url())
    wait_for_socket(poster, "#thread-live", opened=1)
    for payload in XSS_CORPUS[6:]:
        poster.locator("#composer-body").fill(payload)
        poster.get_by_test_id("post-comment").click()
        expect(poster.locator("#composer-body")).to_have_value("")
    expect(reader.locator("#replies-root .comment-item")).to_have_count(len(XSS_CORPUS))

    for link in reader.locator("#replies-root a").all():
        link.click(modifiers=["Control"], no_wait_after=True, timeout=10_000)  # never navigate away
    for body in reader.locator("#replies-root .comment__body").all():
        body.hover()
    settle(reader)
    assert reader.evaluate("window.__pwned") is None
    assert dialogs == []
    dangerous = reader.evaluate(
        """() => Array.from(document.querySelectorAll('#replies-root *')).filter(el =>
            ['SCRIPT', 'IFRAME', 'SVG', 'svg', 'MATH', 'math', 'STYLE', 'DETAILS', 'OBJECT', 'EMBED'].includes(el.tagName)
            || Array.from(el.attributes).some(a => a.name.startsWith('on'))
            || /^\\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src') || '')).length"""
    )
    assert dangerous == 0
    assert reader.locator("#replies-root").is_visible()  # no injected style hid the page


def test_review_queue_end_to_end(live_url, signed_in_page, dev_accounts, thread, screenshot):
    author, _ = _person(dev_accounts[2]), _person(dev_accounts[0], moderator=True)
    flaggers = [_person(dev_accounts[n]) for n in (1, 3)]
    rude = comment_post(thread=thread, author=author, body="Anyone voting for this is an idiot.")
    comment_post(thread=thread, author=flaggers[0], body="Let's keep it civil.")

    for account in (dev_accounts[1], dev_accounts[3]):
        page = signed_in_page(account)
        page.goto(live_url + rude.get_absolute_url())
        page.locator(f"#comment-{rude.pk}").get_by_role("link", name="Flag").click()
        page.get_by_label("Abusive").check()
        page.locator("#flag-text").fill("Personal insult")
        page.get_by_test_id("flag-submit").click()
        expect(page.locator(".messages")).to_contain_text("the moderators will review it")

    mod = signed_in_page(dev_accounts[0])
    mod.goto(live_url + "/discussion/")
    screenshot(mod, "discussion-index-desktop-light")
    mod.get_by_test_id("review-link").click()
    item = mod.locator(f"#queue-comment-{rude.pk}")
    expect(item).to_contain_text("2 flags")
    expect(item).to_contain_text("Personal insult")
    for viewport, scheme in ((DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")):
        shot = signed_in_page(dev_accounts[0], viewport=viewport, color_scheme=scheme)
        shot.goto(live_url + "/discussion/review/")
        screenshot(shot, f"discussion-review-{'phone' if viewport is PHONE else 'desktop'}-{scheme}")
    item.locator("input[name=note]").fill("Insults are not welcome here.")
    item.locator("select[name=silence_hours]").select_option("72")
    item.get_by_test_id("silence").click()
    expect(mod.get_by_test_id("queue-empty")).to_be_visible()

    silenced = signed_in_page(dev_accounts[2])
    silenced.goto(live_url + thread.get_absolute_url())
    refusal = silenced.get_by_test_id("posting-refusal")
    expect(refusal).to_contain_text("You are silenced until")
    expect(refusal).to_contain_text("Insults are not welcome here.")
    expect(silenced.locator(f"#comment-{rude.pk}")).to_contain_text("Only you and the moderators can see it")

    mod.goto(live_url + "/discussion/log/")
    log = mod.get_by_test_id("mod-log")
    for entry in ("Agreed with flags", "Hid a comment", "Silenced a wallet", "Insults are not welcome here."):
        expect(log).to_contain_text(entry)
    assert ModerationAction.objects.filter(kind="silence", target_user=author).exists()
    screenshot(mod, "discussion-log-desktop-light")


def test_quote_reply_puts_the_comment_in_the_composer_as_a_blockquote(live_url, signed_in_page, make_user, dev_accounts):
    from portal.discussion import services as discussion

    thread = discussion.thread_create(title="Feeds", category_slug="general", author=make_user(), body="Which?")
    quoted = discussion.comment_post(thread=thread, author=make_user(), body="Two feeds and a fallback.")
    page = signed_in_page(dev_accounts[1])
    page.goto(f"{live_url}{thread.get_absolute_url()}")
    page.locator(f"#comment-{quoted.pk}").get_by_test_id("quote").click()
    expect(page.locator("#composer-body")).to_have_value("> Two feeds and a fallback.\n\n")
    expect(page.locator("#composer-reply")).to_contain_text("Replying to")


def test_a_long_thread_opens_on_its_latest_comments_and_pages_back(live_url, new_page, thread, make_user, screenshot):
    from portal.discussion.selectors import COMMENTS_PER_PAGE

    authors = [make_user(joined=datetime.timedelta(days=30), display_name=name) for name in ("Ada", "Ben", "Cy")]
    start = timezone.now() - datetime.timedelta(days=1)
    for n in range(COMMENTS_PER_PAGE + 5):
        Comment(thread=thread, author=authors[n % 3], body=f"Point **{n}** about the loan-to-value.",
                created=start + datetime.timedelta(minutes=n)).save()
    shots = {}
    for viewport, scheme in ((DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")):
        page = new_page(viewport=viewport, color_scheme=scheme)
        page.goto(live_url + thread.get_absolute_url())
        comments = page.get_by_test_id("comments")
        expect(comments).to_contain_text(f"Point {COMMENTS_PER_PAGE + 4} about")
        expect(comments.locator(":scope > .comment-item")).to_have_count(COMMENTS_PER_PAGE)
        shots[(viewport is PHONE, scheme)] = page
    page = shots[(False, "light")]
    page.get_by_test_id("earlier-comments").click()
    comments = page.get_by_test_id("comments")
    expect(comments.locator(":scope > .comment-item")).to_have_count(5)
    expect(comments).to_contain_text("Point 0 about")
    expect(page.get_by_test_id("earlier-comments")).to_have_count(0)
    for (phone, scheme), shot in shots.items():
        if not phone and scheme == "light":
            continue
        shot.get_by_test_id("earlier-comments").click()
        expect(shot.get_by_test_id("later-comments")).to_be_visible()
    for (phone, scheme), shot in shots.items():
        screenshot(shot, f"discussion-earlier-{'phone' if phone else 'desktop'}-{scheme}")
    page.get_by_test_id("later-comments").click()
    expect(page.get_by_test_id("comments")).to_contain_text(f"Point {COMMENTS_PER_PAGE + 4} about")


def test_a_comment_with_many_replies_shows_the_latest_and_opens_the_earlier_ones(live_url, new_page, thread, make_user,
                                                                                  screenshot):
    from portal.discussion.selectors import REPLIES_SHOWN

    ada, ben = (make_user(joined=datetime.timedelta(days=30), display_name=name) for name in ("Ada", "Ben"))
    moderator = make_user(groups=["moderators"], display_name="Mo")
    start = timezone.now() - datetime.timedelta(days=1)
    question = Comment(thread=thread, author=ada, body="Which oracle should the WETH market use?", created=start)
    question.save()
    for n in range(REPLIES_SHOWN + 12):
        Comment(thread=thread, author=ben, parent=question, quoted=question, body=f"Answer **{n}**: Chainlink.",
                created=start + datetime.timedelta(minutes=n + 1)).save()
    for viewport, scheme in ((DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")):
        page = new_page(viewport=viewport, color_scheme=scheme)
        page.goto(live_url + thread.get_absolute_url())
        replies = page.locator(f"#replies-{question.pk} > .comment-item")
        expect(replies).to_have_count(REPLIES_SHOWN)
        expect(replies.first).to_contain_text("Answer 12:")
        more = page.get_by_test_id("earlier-replies")
        expect(more).to_have_text("Show 12 earlier replies")
        more.scroll_into_view_if_needed()
        screenshot(page, f"discussion-replies-{'phone' if viewport is PHONE else 'desktop'}-{scheme}")
    # Live: an edit of a reply the page does not show stays out of it; a new reply comes in at the end.
    wait_for_socket(page)
    comment_edit(comment=Comment.objects.get(body="Answer **0**: Chainlink."), editor=moderator,
                 body="Answer **0**: Chainlink, edited.")
    comment_post(thread=thread, author=ben, body="A late answer: Pyth.", parent=question)
    expect(replies).to_have_count(REPLIES_SHOWN + 1)
    expect(replies.last).to_contain_text("A late answer: Pyth.")
    expect(page.get_by_test_id("comments")).not_to_contain_text("Answer 0:")
    page.get_by_test_id("earlier-replies").click()
    expect(replies).to_have_count(REPLIES_SHOWN + 13)
    expect(replies.first).to_contain_text("Answer 0: Chainlink, edited.")
    expect(page.get_by_test_id("earlier-replies")).to_have_count(0)
    screenshot(page, "discussion-replies-opened-phone-dark")
