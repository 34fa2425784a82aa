"""Comments keep their sanitised HTML from write time, and a thread is read a page at a time: the latest top-level
comments first, "Earlier comments" for the rest. Neither may show what the slow path would not (hidden comments,
unsafe markup)."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portal.discussion import moderation
from portal.discussion.models import Comment
from portal.discussion.rendering import comment_html_backfill
from portal.discussion.selectors import (
    API_COMMENTS_PER_PAGE, COMMENTS_PER_PAGE, REPLIES_PER_PAGE, REPLIES_SHOWN, comment_page,
)
from portal.discussion.services import comment_delete, comment_edit, comment_post
from portal.markdown import RENDERER_VERSION
from portal.parsing import PAGE_SENTENCE

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> **bold** [x](javascript:alert(2)) <img src=x onerror=alert(3)>'


def _many(thread, author, n: int, *, start: datetime.datetime | None = None) -> list[Comment]:
    """`n` top-level comments a second apart (written as a migration or import would: straight to the model)."""
    start = start or timezone.now() - datetime.timedelta(days=1)
    comments = []
    for i in range(n):
        comment = Comment(thread=thread, author=author, body=f"Point number {i}", created=start + datetime.timedelta(seconds=i))
        comment.save()
        comments.append(comment)
    return comments


def _unsafe(html: str) -> bool:
    # markup that would run, not the same characters shown as escaped text
    return any(bad in html for bad in ("<script", 'href="javascript', "<img"))


def test_a_posted_comment_stores_the_sanitised_html(thread, member):
    comment = comment_post(thread=thread, author=member, body=HOSTILE)
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.html_version == RENDERER_VERSION
    assert "<strong>bold</strong>" in stored.html and not _unsafe(stored.html)
    assert stored.body_html == stored.html


def test_an_edit_stores_the_new_sanitised_html_and_a_delete_clears_it(thread, member):
    comment = comment_post(thread=thread, author=member, body="first *take*")
    comment_edit(comment=comment, editor=member, body=HOSTILE)
    edited = Comment.objects.get(pk=comment.pk)
    assert "<strong>bold</strong>" in edited.html and "take" not in edited.html and not _unsafe(edited.html)
    comment_delete(comment=edited, user=member)
    assert Comment.objects.get(pk=comment.pk).html == ""


def test_the_api_and_the_page_serve_the_stored_html(client, thread, member):
    comment = comment_post(thread=thread, author=member, body=HOSTILE)
    created = Comment.objects.get(pk=comment.pk).html
    api = client.get(f"/api/v1/threads/{thread.pk}").json()
    assert api["items"][0]["html"] == created
    page = client.get(thread.get_absolute_url()).content.decode()
    assert created in page and "<script>alert" not in page


def test_comments_from_an_older_renderer_are_rendered_fresh_until_migrate_stores_them(thread, member):
    comment = comment_post(thread=thread, author=member, body="a **bold** claim")
    # As after a RENDERER_VERSION bump: the row holds what another renderer made.
    Comment.objects.filter(pk=comment.pk).update(html="<p>stale <script>x</script></p>", html_version=RENDERER_VERSION - 1)
    stale = Comment.objects.get(pk=comment.pk)
    assert stale.body_html == "<p>a <strong>bold</strong> claim</p>\n"  # read path: never the stale text
    call_command("migrate", verbosity=0)  # the post_migrate backfill
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.html_version == RENDERER_VERSION and stored.html == "<p>a <strong>bold</strong> claim</p>\n"
    assert comment_html_backfill() == 0  # nothing left to re-render


def test_the_thread_page_shows_the_latest_comments_and_links_to_earlier_ones(client, thread, member):
    comments = _many(thread, member, COMMENTS_PER_PAGE + 5)
    latest = client.get(thread.get_absolute_url()).content.decode()
    assert f"Point number {COMMENTS_PER_PAGE + 4}<" in latest and "Point number 5<" in latest
    assert "Point number 4<" not in latest
    assert 'data-testid="earlier-comments"' in latest and "?page=2" in latest
    assert 'ws-connect="/ws/threads/' in latest and f'name="first" value="{comments[5].pk}"' in latest
    earlier = client.get(thread.get_absolute_url() + "?page=2").content.decode()
    assert "Point number 0<" in earlier and "Point number 4<" in earlier and "Point number 5<" not in earlier
    assert 'data-testid="earlier-comments"' not in earlier and 'data-testid="later-comments"' in earlier
    assert "ws-connect" not in earlier  # an earlier page is history: no live appends, no composer
    past = client.get(thread.get_absolute_url() + "?page=99")
    assert past.status_code == HTTPStatus.OK and "There are no comments on this page." in past.content.decode()


def test_a_page_keeps_each_comment_with_all_its_replies(thread, member, other_member):
    tops = _many(thread, member, COMMENTS_PER_PAGE + 1)
    reply = comment_post(thread=thread, author=other_member, body="late reply to the oldest", parent=tops[0])
    first, second = comment_page(thread=thread, page=1), comment_page(thread=thread, page=2)
    assert [c.pk for c in first.comments] == [c.pk for c in tops[1:]] and first.earlier
    assert [c.pk for c in second.comments] == [tops[0].pk] and not second.earlier
    assert [r.pk for r in second.comments[0].reply_list] == [reply.pk]


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5", "²"])
def test_a_page_that_is_not_a_positive_number_is_refused_with_the_sentence(client, thread, raw):
    page = client.get(thread.get_absolute_url(), {"page": raw})
    assert page.status_code == HTTPStatus.BAD_REQUEST and PAGE_SENTENCE in page.content.decode()
    api = client.get(f"/api/v1/threads/{thread.pk}", {"page": raw})
    assert api.status_code == HTTPStatus.BAD_REQUEST and api.json() == {"error": PAGE_SENTENCE}


def test_a_paginated_thread_still_hides_what_it_hides(client, thread, member, other_member, moderator):
    tops = _many(thread, member, COMMENTS_PER_PAGE + 3)
    secret = Comment.objects.get(pk=tops[1].pk)  # on the earlier page
    moderation.comment_hide(comment=secret, moderator=moderator, note="doxxing")
    live_secret = Comment.objects.get(pk=tops[-1].pk)  # on the latest page
    moderation.comment_hide(comment=live_secret, moderator=moderator)
    gone = comment_post(thread=thread, author=other_member, body="regret this", parent=tops[2])
    comment_delete(comment=gone, user=other_member)

    for url in (thread.get_absolute_url(), thread.get_absolute_url() + "?page=2"):
        html = client.get(url).content.decode()
        assert secret.body + "<" not in html and live_secret.body + "<" not in html and "regret this" not in html
    assert "This comment was hidden by a moderator." in client.get(thread.get_absolute_url() + "?page=2").content.decode()
    mod = Client()
    mod.force_login(moderator)
    assert secret.body + "<" in mod.get(thread.get_absolute_url() + "?page=2").content.decode()

    visible = len(tops) - 2
    api = client.get(f"/api/v1/threads/{thread.pk}").json()
    assert api["count"] == visible
    ids = {c["id"] for c in api["items"]}
    assert secret.pk not in ids and live_secret.pk not in ids and gone.pk not in ids
    assert len(api["items"]) == min(visible, API_COMMENTS_PER_PAGE)
    assert client.get(f"/api/v1/threads/{thread.pk}", {"page": 2}).json()["items"] == []


def test_the_api_pages_through_every_visible_comment_once(client, thread, member):
    tops = _many(thread, member, API_COMMENTS_PER_PAGE + 7)
    first = client.get(f"/api/v1/threads/{thread.pk}").json()
    second = client.get(f"/api/v1/threads/{thread.pk}", {"page": "2"}).json()
    assert first["count"] == second["count"] == len(tops) and first["title"] == thread.title
    assert [c["id"] for c in first["items"] + second["items"]] == [c.pk for c in tops]


def test_catch_up_on_the_latest_page_leaves_out_edits_on_earlier_pages(client, thread, member, moderator):
    tops = _many(thread, member, COMMENTS_PER_PAGE + 2)
    since = timezone.now().isoformat()
    old, recent = tops[0], tops[-1]
    comment_edit(comment=old, editor=moderator, body="edited long ago")
    comment_edit(comment=recent, editor=moderator, body="edited just now")
    first = comment_page(thread=thread, page=1).first_id
    changes = client.get(f"/discussion/t/{thread.pk}/changes/", {"since": since, "first": first}).content.decode()
    assert "edited just now" in changes and "edited long ago" not in changes
    bad = client.get(f"/discussion/t/{thread.pk}/changes/", {"since": since, "first": "x"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("comments", [10, COMMENTS_PER_PAGE * 3])
def test_the_thread_page_costs_the_same_queries_past_one_page(thread, member, comments, django_assert_num_queries):
    _many(thread, member, comments)
    reader = Client()
    reader.force_login(member)
    # as test_query_counts: session, user, suspension, roles, thread, one page of comments, posting refusal, bell
    with django_assert_num_queries(8):
        page = reader.get(thread.get_absolute_url())
    assert page.status_code == HTTPStatus.OK and page.content.decode().count('class="comment-item"') == min(
        comments, COMMENTS_PER_PAGE
    )


def test_a_comment_with_many_replies_shows_its_latest_and_pages_the_rest(client, thread, member, other_member,
                                                                         settings):
    """A thread page costs the same however many replies one comment has: its latest REPLIES_SHOWN are shown,
    "Show N earlier replies" opens pages of REPLIES_PER_PAGE, newest page first, each oldest first."""
    settings.PORTAL = {**settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE": 10_000}
    top = comment_post(thread=thread, author=member, body="Popular question")
    total = REPLIES_PER_PAGE + 30
    replies = [comment_post(thread=thread, author=other_member, body=f"Answer {n}", parent=top) for n in range(total)]
    lone = comment_post(thread=thread, author=member, body="Quiet question")
    answer = comment_post(thread=thread, author=other_member, body="Quiet answer", parent=lone)

    page = comment_page(thread=thread)
    popular, quiet = page.comments
    assert [r.pk for r in popular.reply_list] == [r.pk for r in replies[-REPLIES_SHOWN:]]
    assert popular.replies_shown.earlier == total - REPLIES_SHOWN and [r.pk for r in quiet.reply_list] == [answer.pk]
    html = client.get(thread.get_absolute_url()).content.decode()
    assert f"Show {total - REPLIES_SHOWN} earlier replies" in html and "Answer 109<" not in html
    assert f"Answer {total - 1}<" in html and "Quiet answer<" in html and 'data-testid="later-replies"' not in html

    opened = client.get(thread.get_absolute_url(), {"replies": top.pk, "rpage": 1}).content.decode()
    assert f"Answer {total - REPLIES_PER_PAGE}<" in opened and f"Answer {total - REPLIES_PER_PAGE - 1}<" not in opened
    assert "Show 30 earlier replies" in opened and "Quiet answer<" in opened
    oldest = client.get(thread.get_absolute_url(), {"replies": top.pk, "rpage": 2}).content.decode()
    assert "Answer 0<" in oldest and "Answer 29<" in oldest and "Answer 30<" not in oldest
    assert 'data-testid="later-replies"' in oldest and 'data-testid="earlier-replies"' not in oldest
    assert client.get(thread.get_absolute_url(), {"replies": top.pk, "rpage": 9}).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("params", "sentence"), [
    ({"replies": "x"}, "The comment whose replies to show must be a whole number."),
    ({"replies": "0"}, "The comment whose replies to show must be at least 1."),
    ({"replies": "1", "rpage": "²"}, PAGE_SENTENCE),
])
def test_a_bad_replies_parameter_is_a_sentence(client, thread, params, sentence):
    page = client.get(thread.get_absolute_url(), params)
    assert page.status_code == HTTPStatus.BAD_REQUEST and sentence in page.content.decode()


@pytest.mark.parametrize(("replies", "queries"), [(0, 8), (REPLIES_SHOWN, 8), (REPLIES_SHOWN + 1, 9),
                                                  (REPLIES_SHOWN * 50, 9)])
def test_the_thread_page_costs_the_same_queries_however_many_replies(thread, member, other_member, replies, queries,
                                                                     django_assert_num_queries, settings):
    settings.PORTAL = {**settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE": 10_000}
    top = comment_post(thread=thread, author=member, body="Question")
    comment_post(thread=thread, author=member, body="Another question")
    for n in range(replies):
        comment_post(thread=thread, author=other_member, body=f"Answer {n}", parent=top)
    reader = Client()
    reader.force_login(member)
    # as above: one query for the page's comments, replies included; one more for how many replies a comment has
    # when it has more than are shown
    with django_assert_num_queries(queries):
        page = reader.get(thread.get_absolute_url())
    assert page.content.decode().count('class="comment-item"') == 2 + min(replies, REPLIES_SHOWN)
