"""Pages, the no-JavaScript posting path, the JSON API and the review queue end to end over HTTP."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client, override_settings

from portal.accounts.models import Sanction
from portal.discussion import moderation
from portal.discussion.models import Comment, Flag, ModerationAction, Thread
from portal.discussion.services import comment_post

from .conftest import ESTABLISHED

pytestmark = pytest.mark.django_db


def signed_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


def test_pages_render_for_everyone(client, thread, member, moderator):
    comment_post(thread=thread, author=member, body="Hello **world**")
    for page in ("/discussion/", "/discussion/c/governance/", thread.get_absolute_url(), "/discussion/log/", "/"):
        assert client.get(page).status_code == HTTPStatus.OK, page
    body = client.get(thread.get_absolute_url()).content.decode()
    assert 'ws-connect="/ws/threads/' in body and "<strong>world</strong>" in body
    assert "Sign in with your wallet to join" in body
    mod_page = signed_in(moderator).get(thread.get_absolute_url()).content.decode()
    assert 'data-testid="mod-tools"' in mod_page
    assert client.get("/discussion/review/").status_code == HTTPStatus.FORBIDDEN
    assert signed_in(moderator).get("/discussion/review/").status_code == HTTPStatus.OK


def test_post_without_javascript(thread, member):
    response = signed_in(member).post(f"/discussion/t/{thread.pk}/comments/", {"body": "No JS needed"})
    comment = Comment.objects.get()
    assert response.status_code == HTTPStatus.FOUND and response["Location"].endswith(f"#comment-{comment.pk}")


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ("", HTTPStatus.BAD_REQUEST, "The comment is empty"),
        ("x" * 10_001, HTTPStatus.BAD_REQUEST, "The comment is too long"),
    ],
)
def test_bad_comment_over_http_keeps_the_draft(thread, member, body, status, sentence):
    response = signed_in(member).post(f"/discussion/t/{thread.pk}/comments/", {"body": body})
    assert response.status_code == status
    assert sentence in response.content.decode()
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    ("parent", "sentence"),
    [("999999", "does not exist."), ("abc", "must be a whole number.")],
)
def test_reply_to_a_missing_comment_over_http(thread, member, parent, sentence):
    response = signed_in(member).post(f"/discussion/t/{thread.pk}/comments/", {"body": "a reply", "parent": parent})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert f"The comment you are replying to {sentence}" in response.content.decode()
    assert Comment.objects.count() == 0


def test_anonymous_post_is_refused(client, thread):
    response = client.post(f"/discussion/t/{thread.pk}/comments/", {"body": "hi"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "Please sign in with your wallet" in response.content.decode()
    assert Comment.objects.count() == 0


def test_html_form_needs_csrf(thread, member):
    response = signed_in(member, enforce_csrf=True).post(f"/discussion/t/{thread.pk}/comments/", {"body": "hi"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Comment.objects.count() == 0


def test_catch_up_returns_changes_since_the_cursor(client, thread, member):
    old = comment_post(thread=thread, author=member, body="old one")
    Comment.objects.filter(pk=old.pk).update(changed="2020-01-01T00:00:00Z")
    new = comment_post(thread=thread, author=member, body="missed while offline")
    response = client.get(f"/discussion/t/{thread.pk}/changes/", {"since": "2024-01-01T00:00:00+00:00"})
    body = response.content.decode()
    assert f'id="item-{new.pk}"' in body and f'id="item-{old.pk}"' not in body
    assert 'id="thread-cursor"' in body and 'hx-swap-oob="true"' in body
    everything = client.get(f"/discussion/t/{thread.pk}/changes/").content.decode()
    assert f'id="item-{old.pk}"' in everything


def test_comment_buttons_over_http(thread, member, other_member, moderator):
    from portal.discussion.models import Reaction

    comment = comment_post(thread=thread, author=member, body="Keep the reserve factor")
    url = f"/discussion/comments/{comment.pk}"
    own_plus = signed_in(member).post(f"{url}/plus/")
    assert own_plus.status_code == HTTPStatus.FORBIDDEN and own_plus.content.decode() == "You cannot +1 your own comment."
    assert not Reaction.objects.exists()
    plus = signed_in(other_member).post(f"{url}/plus/", HTTP_HX_REQUEST="true")
    assert plus.status_code == HTTPStatus.NO_CONTENT and Reaction.objects.count() == 1

    not_theirs = signed_in(other_member).post(f"{url}/delete/")
    assert not_theirs.status_code == HTTPStatus.FORBIDDEN and "only delete your own" in not_theirs.content.decode()
    not_a_moderator = signed_in(member).post(f"{url}/hide/", {"hidden": "1"})
    assert not_a_moderator.status_code == HTTPStatus.FORBIDDEN and "Only moderators" in not_a_moderator.content.decode()
    comment.refresh_from_db()
    assert not comment.is_deleted and not comment.hidden

    hide = signed_in(moderator).post(f"{url}/hide/", {"hidden": "1"})
    assert hide.status_code == HTTPStatus.FOUND and hide["Location"].endswith(f"#comment-{comment.pk}")
    assert signed_in(member).post(f"{url}/delete/").status_code == HTTPStatus.FOUND
    comment.refresh_from_db()
    assert comment.hidden and comment.is_deleted


def test_bad_edit_over_http_changes_nothing(thread, member, other_member):
    comment = comment_post(thread=thread, author=member, body="original")
    empty = signed_in(member).post(f"/discussion/comments/{comment.pk}/edit/", {"body": "  "})
    assert empty.status_code == HTTPStatus.BAD_REQUEST and "The comment is empty" in empty.content.decode()
    other = signed_in(other_member).post(f"/discussion/comments/{comment.pk}/edit/", {"body": "mine now"})
    assert other.status_code == HTTPStatus.FORBIDDEN and "only edit your own" in other.content.decode()
    assert signed_in(other_member).get(f"/discussion/comments/{comment.pk}/edit/").status_code == HTTPStatus.FORBIDDEN
    comment.refresh_from_db()
    assert comment.body == "original" and not comment.revisions.exists()


@pytest.mark.parametrize(
    ("form", "status", "sentence"),
    [
        ({"title": "", "category": "general", "body": "b"}, HTTPStatus.BAD_REQUEST, "The thread needs a title."),
        ({"title": "t", "category": "general", "body": ""}, HTTPStatus.BAD_REQUEST, "The opening post is empty"),
        ({"title": "t", "category": "nope", "body": "b"}, HTTPStatus.NOT_FOUND, "no discussion category"),
        ({"title": "t", "category": "announcements", "body": "b"}, HTTPStatus.FORBIDDEN, "Only moderators"),
    ],
)
def test_bad_new_thread_over_http_keeps_the_draft(member, form, status, sentence):
    before = Thread.objects.count()
    response = signed_in(member).post("/discussion/new/", form)
    assert response.status_code == status
    page = response.content.decode()
    assert sentence in page and (not form["body"] or form["body"] in page)
    assert Thread.objects.count() == before


def test_anonymous_cannot_start_a_thread(client):
    response = client.post("/discussion/new/", {"title": "t", "category": "general", "body": "b"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "Sign in with your wallet to start a thread." in response.content.decode()
    assert not Thread.objects.filter(title="t").exists()


# --- JSON API -----------------------------------------------------------------------------------------------------


def test_api_thread_lists_visible_comments(client, thread, member, moderator):
    from portal.discussion import moderation

    shown = comment_post(thread=thread, author=member, body="visible *text*")
    hidden = comment_post(thread=thread, author=member, body="hidden text")
    moderation.comment_hide(comment=hidden, moderator=moderator)
    response = client.get(f"/api/v1/threads/{thread.pk}")
    assert response.status_code == HTTPStatus.OK
    data = response.json()
    assert data["title"] == thread.title and data["category"] == "governance" and data["locked"] is False
    assert [c["id"] for c in data["items"]] == [shown.pk] and data["count"] == 1
    assert data["items"][0]["html"] == "<p>visible <em>text</em></p>\n"
    assert data["items"][0]["author"] == member.username


def test_api_unknown_thread(client):
    response = client.get("/api/v1/threads/424242")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "There is no discussion thread 424242."}


def _api_post(client, thread_id, payload, **extra):
    return client.post(f"/api/v1/threads/{thread_id}/comments", payload, content_type="application/json", **extra)


def test_api_post_creates_a_comment(thread, member):
    client = signed_in(member, enforce_csrf=True)
    client.get(thread.get_absolute_url())  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = _api_post(client, thread.pk, {"body": "From the **API**"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == HTTPStatus.CREATED
    data = response.json()
    assert data == {"id": Comment.objects.get().pk, "html": "<p>From the <strong>API</strong></p>\n"}


def test_api_post_without_csrf_is_refused(thread, member):
    response = _api_post(signed_in(member, enforce_csrf=True), thread.pk, {"body": "sneaky"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "error" in response.json()
    assert Comment.objects.count() == 0


def test_api_post_anonymous(client, thread):
    response = _api_post(client, thread.pk, {"body": "hi"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"error": "Please sign in with your wallet first."}
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "status", "sentence"),
    [
        ({"body": ""}, HTTPStatus.BAD_REQUEST, "The comment is empty: write something first."),
        ({"body": "x" * 10_001}, HTTPStatus.BAD_REQUEST, "too long"),
        ({}, HTTPStatus.BAD_REQUEST, "The field “body” is missing: the request needs it."),
        ({"body": "hi", "parent": 999999}, HTTPStatus.BAD_REQUEST, "does not exist"),
    ],
)
def test_api_bad_input(thread, member, payload, status, sentence):
    response = _api_post(signed_in(member), thread.pk, payload)
    assert response.status_code == status
    assert sentence in response.json()["error"]
    assert Comment.objects.count() == 0


def test_api_wrong_thread(thread, member):
    response = _api_post(signed_in(member), 999999, {"body": "hi"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "There is no discussion thread 999999."}
    other = Thread.objects.create(category=thread.category, title="Other")
    elsewhere = comment_post(thread=other, author=member, body="elsewhere")
    response = _api_post(signed_in(member), thread.pk, {"body": "hi", "parent": elsewhere.pk})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "same thread" in response.json()["error"]
    assert Comment.objects.filter(thread=thread).count() == 0


def test_api_locked_silenced_and_rate_limited(thread, member, moderator, make_user):
    from portal.discussion import moderation

    moderation.thread_moderate(thread=thread, moderator=moderator, action="lock")
    response = _api_post(signed_in(member), thread.pk, {"body": "hi"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"error": "This thread is locked: no new comments."}
    moderation.thread_moderate(thread=thread, moderator=moderator, action="unlock")

    moderation.sanction_impose(moderator=moderator, user=member, kind=Sanction.Kind.SILENCE, hours=2, reason="Spam")
    response = _api_post(signed_in(member), thread.pk, {"body": "hi"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"].startswith("You are silenced until ")

    poster = make_user(joined=ESTABLISHED)
    with override_settings(PORTAL={"DISCUSSION_POSTS_PER_MINUTE": 1}):
        assert _api_post(signed_in(poster), thread.pk, {"body": "one"}).status_code == HTTPStatus.CREATED
        response = _api_post(signed_in(poster), thread.pk, {"body": "two"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "posting too fast" in response.json()["error"] and response["Retry-After"]
    assert list(Comment.objects.values_list("body", flat=True)) == ["one"]


# --- Flags and the review queue ---------------------------------------------------------------------------------


def test_flag_refusals(thread, member, other_member):
    comment = comment_post(thread=thread, author=member, body="questionable")
    url = f"/discussion/comments/{comment.pk}/flag/"
    own = signed_in(member).post(url, {"reason": "spam"})
    assert own.status_code == HTTPStatus.FORBIDDEN and "cannot flag your own" in own.content.decode()
    bad = signed_in(other_member).post(url, {"reason": "boring"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST and "Choose a reason" in bad.content.decode()
    other = signed_in(other_member).post(url, {"reason": "other", "text": ""})
    assert "what is wrong" in other.content.decode()
    assert signed_in(other_member).post(url, {"reason": "spam"}).status_code == HTTPStatus.FOUND
    again = signed_in(other_member).post(url, {"reason": "abusive"})
    assert again.status_code == HTTPStatus.CONFLICT and "already flagged" in again.content.decode()
    assert Flag.objects.count() == 1


@override_settings(PORTAL={"DISCUSSION_AUTO_HIDE_FLAGS": 2})
def test_auto_hide_after_distinct_flags(thread, member, make_user):
    comment = comment_post(thread=thread, author=member, body="buy my token")
    for _ in range(2):
        signed_in(make_user(joined=ESTABLISHED)).post(f"/discussion/comments/{comment.pk}/flag/", {"reason": "spam"})
    comment.refresh_from_db()
    assert comment.hidden
    assert ModerationAction.objects.get().kind == "auto-hide"


def test_review_queue_flow(thread, member, moderator, make_user):
    calm = comment_post(thread=thread, author=member, body="calm comment")
    rude = comment_post(thread=thread, author=member, body="rude comment")
    for flagger in (make_user(joined=ESTABLISHED), make_user(joined=ESTABLISHED)):
        signed_in(flagger).post(f"/discussion/comments/{rude.pk}/flag/", {"reason": "abusive", "text": "insults"})
    signed_in(make_user(joined=ESTABLISHED)).post(f"/discussion/comments/{calm.pk}/flag/", {"reason": "off-topic"})
    mod = signed_in(moderator)
    queue = mod.get("/discussion/review/").content.decode()
    assert queue.index(f"queue-comment-{rude.pk}") < queue.index(f"queue-comment-{calm.pk}")  # most flagged first
    assert "insults" in queue and "Flags upheld" in queue

    assert signed_in(member).post(f"/discussion/review/comment/{rude.pk}/", {"decision": "agree"}).status_code == HTTPStatus.FORBIDDEN
    response = mod.post(f"/discussion/review/comment/{rude.pk}/",
                        {"decision": "silence", "silence_hours": "24", "note": "No insults, please."})
    assert response.status_code == HTTPStatus.FOUND
    rude.refresh_from_db()
    assert rude.hidden
    assert mod.post(f"/discussion/review/comment/{calm.pk}/", {"decision": "disagree"}).status_code == HTTPStatus.FOUND
    assert "Nothing to review" in mod.get("/discussion/review/").content.decode()
    again = mod.post(f"/discussion/review/comment/{rude.pk}/", {"decision": "agree"})
    assert again.status_code == HTTPStatus.CONFLICT

    # The silenced author sees why and until when, on the page and when posting.
    author_page = signed_in(member).get(thread.get_absolute_url()).content.decode()
    assert "You are silenced until" in author_page and "No insults, please." in author_page
    assert "rude comment" in author_page  # the author still sees their hidden comment
    public_page = Client().get(thread.get_absolute_url()).content.decode()
    assert "rude comment" not in public_page and "hidden by a moderator" in public_page

    # The log: moderators see everything, the public sees stubs.
    kinds = set(ModerationAction.objects.values_list("kind", flat=True))
    assert {"agree", "hide", "silence", "disagree"} <= kinds
    mod_log = mod.get("/discussion/log/").content.decode()
    public_log = Client().get("/discussion/log/").content.decode()
    assert "No insults, please." in mod_log
    assert "No insults, please." not in public_log and "Silenced a wallet" in public_log


def test_a_flagged_thread_is_reviewed_and_hidden(member, other_member, moderator):
    from portal.discussion.services import thread_create

    spam = thread_create(title="Free airdrop", category_slug="general", author=member, body="Send me your seed phrase")
    assert signed_in(member).post(f"/discussion/t/{spam.pk}/flag/", {"reason": "spam"}).status_code == HTTPStatus.FORBIDDEN
    assert signed_in(other_member).post(f"/discussion/t/{spam.pk}/flag/", {"reason": "spam"}).status_code == HTTPStatus.FOUND
    mod = signed_in(moderator)
    assert f"queue-thread-{spam.pk}" in mod.get("/discussion/review/").content.decode()
    assert mod.post(f"/discussion/review/thread/{spam.pk}/", {"decision": "agree"}).status_code == HTTPStatus.FOUND
    spam.refresh_from_db()
    assert spam.hidden and Flag.objects.get().outcome == Flag.Outcome.AGREED
    assert Client().get(spam.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("form", "sentence"),
    [
        ({"address": "0x" + "ee" * 20, "kind": "silence", "hours": "24", "reason": "r"},
         "No member has signed in with that wallet."),
        ({"kind": "ban", "hours": "24", "reason": "r"}, "Choose silence or suspend."),
        ({"kind": "silence", "hours": "soon", "reason": "r"}, "The duration is a number of hours."),
        ({"kind": "silence", "hours": "0", "reason": "r"}, "The duration is between 1 hour and"),
        ({"kind": "silence", "hours": "24", "reason": " "}, "Give a reason: the member reads it."),
    ],
)
def test_bad_sanction_form_says_why_and_sanctions_nobody(member, moderator, form, sentence):
    response = signed_in(moderator).post("/discussion/sanctions/", {"address": member.username, **form}, follow=True)
    assert response.redirect_chain[-1][0] == "/discussion/review/"
    assert sentence in response.content.decode()
    assert not Sanction.objects.exists()


def test_bad_review_decision_is_refused(thread, member, moderator, make_user):
    comment = comment_post(thread=thread, author=member, body="meh")
    signed_in(make_user(joined=ESTABLISHED)).post(f"/discussion/comments/{comment.pk}/flag/", {"reason": "spam"})
    mod = signed_in(moderator)
    bad = mod.post(f"/discussion/review/comment/{comment.pk}/", {"decision": "shrug"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST and "Choose agree, disagree" in bad.content.decode()
    no_hours = mod.post(f"/discussion/review/comment/{comment.pk}/", {"decision": "silence", "silence_hours": "x"})
    assert no_hours.status_code == HTTPStatus.BAD_REQUEST and "for how long" in no_hours.content.decode()
    assert mod.post(f"/discussion/review/nonsense/{comment.pk}/", {"decision": "agree"}).status_code == HTTPStatus.NOT_FOUND
    assert Flag.objects.get().outcome == Flag.Outcome.OPEN and not ModerationAction.objects.exists()
    assert not Sanction.objects.exists()


def test_moderator_thread_tools_over_http(thread, moderator, member):
    mod = signed_in(moderator)
    for action in ("lock", "pin"):
        assert mod.post(f"/discussion/t/{thread.pk}/moderate/", {"action": action}).status_code == HTTPStatus.FOUND
    mod.post(f"/discussion/t/{thread.pk}/moderate/", {"action": "move", "category": "general"})
    mod.post(f"/discussion/t/{thread.pk}/moderate/", {"action": "slow-mode", "slow_mode_seconds": "30"})
    thread.refresh_from_db()
    assert thread.locked and thread.pinned and thread.category.slug == "general" and thread.slow_mode_seconds == 30
    refused = signed_in(member).post(f"/discussion/t/{thread.pk}/moderate/", {"action": "unlock"})
    assert refused.status_code == HTTPStatus.FORBIDDEN
    bad = mod.post(f"/discussion/t/{thread.pk}/moderate/", {"action": "slow-mode", "slow_mode_seconds": "-3"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(("form", "sentence"), [
    ({"action": "lock"}, "Thread locked: no new comments until it is unlocked. It is in the moderation log."),
    ({"action": "slow-mode", "slow_mode_seconds": "30"},
     "Slow mode is on: each member may comment once every 30 seconds. It is in the moderation log."),
    ({"action": "slow-mode", "slow_mode_seconds": "0"}, "Slow mode is off. It is in the moderation log."),
])
def test_lock_and_slow_mode_confirm_what_was_done(thread, moderator, form, sentence):
    """Was: after Lock or Set slow mode the moderator got no word that it worked."""
    page = signed_in(moderator).post(f"/discussion/t/{thread.pk}/moderate/", form, follow=True)
    assert sentence in page.content.decode()


def test_lifting_a_sanction_confirms_it(member, moderator):
    """Was: Lift sanction came back to the queue without a word."""
    from portal.accounts.models import Sanction

    sanction = moderation.sanction_impose(moderator=moderator, user=member, kind="silence", hours=24, reason="Calm down.")
    page = signed_in(moderator).post(f"/discussion/sanctions/{sanction.pk}/lift/", follow=True).content.decode()
    assert "Sanction lifted; it is in the moderation log." in page
    assert Sanction.objects.get(pk=sanction.pk).lifted is not None


def test_edit_history_is_for_everyone_who_may_read_the_comment(client, thread, member, other_member, moderator):
    """Was moderators-only; Discourse shows revisions to everyone. A hidden comment's history stays with its author
    and the moderators."""
    from portal.discussion.services import comment_edit

    comment = comment_post(thread=thread, author=member, body="first draft")
    comment_edit(comment=comment, editor=member, body="second draft")
    url = f"/discussion/comments/{comment.pk}/history/"
    assert f'href="{url}"' in client.get(thread.get_absolute_url()).content.decode()  # the "edited" badge links it
    for reader in (client, signed_in(other_member), signed_in(member), signed_in(moderator)):
        page = reader.get(url)
        assert page.status_code == HTTPStatus.OK and "first draft" in page.content.decode()

    moderation.comment_hide(comment=comment, moderator=moderator, note="Off-topic.")
    for reader in (client, signed_in(other_member)):
        refused = reader.get(url)
        assert refused.status_code == HTTPStatus.FORBIDDEN and "first draft" not in refused.content.decode()
    for reader in (signed_in(member), signed_in(moderator)):
        assert reader.get(url).status_code == HTTPStatus.OK


def test_the_author_is_told_when_a_moderator_hides_their_comment(thread, member, moderator,
                                                                 django_capture_on_commit_callbacks):
    """Was: the comment went quiet and its author heard nothing."""
    from portal.notifications.models import Notification

    comment = comment_post(thread=thread, author=member, body="spicy take")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(moderator).post(f"/discussion/comments/{comment.pk}/hide/", {"hidden": "1"})
    note = Notification.objects.get(recipient=member, verb="comment_hidden")
    assert note.text == f"Your comment in “{thread.title}” was hidden from readers by a moderator."
    assert note.url == comment.get_absolute_url()


def test_a_reply_notifies_the_quoted_author(thread, member, other_member, django_capture_on_commit_callbacks):
    from portal.notifications.models import Notification

    parent = comment_post(thread=thread, author=member, body="What about the oracle?")
    with django_capture_on_commit_callbacks(execute=True):
        with_reply = comment_post(thread=thread, author=other_member, body="Chainlink plus a TWAP.", parent=parent)
    note = Notification.objects.get(recipient=member)
    assert note.verb == "comment_reply" and note.url.endswith(f"#comment-{with_reply.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(thread=thread, author=member, body="Thanks", parent=with_reply)  # replies to others notify them
    assert Notification.objects.filter(recipient=other_member).count() == 1


def test_thread_preview_for_proposal_pages(thread, member):
    from django.template import Context, Template

    comment_post(thread=thread, author=member, body="An **early** opinion")
    html = Template("{% load discussion %}{% thread_preview thread %}").render(Context({"thread": thread}))
    assert "An early opinion" in html and "1 comment " in html and thread.get_absolute_url() in html
    assert Template("{% load discussion %}{% thread_preview None %}").render(Context({})).strip() == ""


def test_a_comment_notifies_the_threads_author_once(member, other_member, moderator, django_capture_on_commit_callbacks):
    from portal.discussion.services import thread_create
    from portal.notifications.models import Notification

    own = thread_create(title="Dark mode for the dashboard", category_slug="feedback", author=member, body="Please.")
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(thread=own, author=other_member, body="Yes please")
    note = Notification.objects.get(recipient=member)
    assert note.text == f"{other_member} commented on “Dark mode for the dashboard”"
    first = Comment.objects.get(author=other_member)
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(thread=own, author=moderator, body="Planned.", parent=first)  # quotes other_member, not the author
    assert Notification.objects.filter(recipient=member).count() == 2
    assert Notification.objects.filter(recipient=other_member).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(thread=own, author=member, body="Thanks!")  # the author's own comment tells nobody
    assert Notification.objects.count() == 3
