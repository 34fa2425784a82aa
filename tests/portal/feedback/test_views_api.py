import json
import re
from http import HTTPStatus

import pytest
from django.test import Client

from portal.feedback import services
from portal.feedback.models import Post, StatusChange, Vote
from portal.parsing import PAGE_SENTENCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def csrf_token(client) -> str:
    client.get("/feedback/new/")
    return client.cookies["csrftoken"].value


def test_board_lists_counts_and_my_votes_with_filters_and_sorts(client, alice, bob, idea, question, tag):
    services.vote_add(post=idea, user=bob)
    idea.tags.add(tag)
    client.force_login(bob)
    page = client.get("/feedback/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert idea.title in html and question.title in html and 'aria-pressed="true"' in html
    assert html.count('aria-pressed="true"') == 1
    assert question.title not in client.get("/feedback/", {"kind": "idea"}).content.decode()
    assert idea.title not in client.get("/feedback/", {"tag": "other"}).content.decode()
    assert idea.title in client.get("/feedback/", {"tag": "lending"}).content.decode()
    voted = client.get("/feedback/", {"voted": "1"}).content.decode()
    assert idea.title in voted and question.title not in voted
    assert idea.title not in client.get("/feedback/", {"mine": "1"}).content.decode()
    for sort in ("trending", "top", "new", "answered"):
        assert client.get("/feedback/", {"sort": sort}).status_code == HTTPStatus.OK
    partial = client.get("/feedback/", {"sort": "top"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="fb-results"')


def test_posting_through_the_form(client, alice, tag):
    client.force_login(alice)
    response = client.post(
        "/feedback/new/", {"kind": "bug", "title": "Repay button spins", "body": "Forever.", "tags": ["lending"]}
    )
    post = Post.objects.get()
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == post.get_absolute_url()
    assert list(post.tags.values_list("slug", flat=True)) == ["lending"]
    page = client.get(post.get_absolute_url())
    assert b"Repay button spins" in page.content and b"<p>Forever.</p>" in page.content


@pytest.mark.parametrize(
    ("form", "sentence", "status"),
    [
        ({"kind": "idea", "title": ""}, "The title is empty: write something first.", HTTPStatus.BAD_REQUEST),
        ({"kind": "idea", "title": "x" * 151}, "The title is too long: 151 characters, at most 150 are allowed.",
         HTTPStatus.BAD_REQUEST),
        ({"kind": "idea", "title": "ok", "body": "b" * 10_001},
         "The description is too long: 10,001 characters, at most 10,000 are allowed.", HTTPStatus.BAD_REQUEST),
        ({"kind": "idea", "title": "ok", "tags": ["nope"]}, "There is no tag called “nope”.", HTTPStatus.BAD_REQUEST),
        ({"title": "ok"}, "Choose what kind of post this is", HTTPStatus.BAD_REQUEST),
    ],
)
def test_bad_form_posts_show_the_sentence_and_write_nothing(client, alice, form, sentence, status):
    client.force_login(alice)
    response = client.post("/feedback/new/", form)
    assert response.status_code == status
    assert sentence in response.content.decode()
    assert not Post.objects.exists()


def test_anonymous_form_post_is_refused(client):
    response = client.post("/feedback/new/", {"kind": "idea", "title": "Hi"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "Please sign in with your wallet to post feedback." in response.content.decode()
    assert not Post.objects.exists()


def test_vote_toggle_over_htmx(client, bob, idea):
    client.force_login(bob)
    on = client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    assert on.status_code == HTTPStatus.OK and 'aria-pressed="true"' in on.content.decode()
    assert '<span class="vote__count" data-testid="vote-count">1</span>' in on.content.decode()
    off = client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    assert 'aria-pressed="false"' in off.content.decode() and not Vote.objects.exists()


def test_anonymous_vote_is_refused(client, idea):
    response = client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "Please sign in with your wallet to vote." in response.content.decode()
    assert not Vote.objects.exists()


def test_rate_limited_vote_keeps_showing_the_vote_as_it_stands(client, bob, idea, settings):
    settings.PORTAL = {**settings.PORTAL, "FEEDBACK_VOTES_PER_MINUTE": 1}
    client.force_login(bob)
    client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    refused = client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    html = refused.content.decode()
    assert re.search(r"You are voting very fast: at most 1 vote a minute\. "
                     r"Please wait (\d+ seconds?|1 minute) and try again\.", html)
    assert 'aria-pressed="true"' in html and '<span class="vote__count" data-testid="vote-count">1</span>' in html
    page = client.post(f"/feedback/{idea.pk}/vote/")  # without htmx: the post page with the sentence
    assert page.status_code == HTTPStatus.TOO_MANY_REQUESTS and 'data-testid="action-error"' in page.content.decode()
    assert Vote.objects.filter(post=idea, user=bob).count() == 1


def test_unauthorised_status_change_through_the_page(client, bob, idea):
    client.force_login(bob)
    response = client.post(f"/feedback/{idea.pk}/status/", {"status": "planned", "note": "Sure"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Only staff can change a post&#x27;s status." in response.content.decode()
    assert not StatusChange.objects.exists() and Post.objects.get().status == "open"


def test_staff_flow_through_the_pages(client, moderator, idea, question):
    client.force_login(moderator)
    response = client.post(f"/feedback/{idea.pk}/status/", {"status": "in_progress", "note": "Building it **now**."})
    assert response.status_code == HTTPStatus.FOUND
    page = client.get(idea.get_absolute_url()).content.decode()
    assert "<strong>now</strong>" in page and "In progress" in page
    roadmap = client.get("/feedback/roadmap/").content.decode()
    assert idea.title in roadmap and question.title not in roadmap
    assert client.post(f"/feedback/{question.pk}/claim/").status_code == HTTPStatus.FOUND
    assert client.post(f"/feedback/{question.pk}/answer/", {"answer": "Use the Repay tab."}).status_code == HTTPStatus.FOUND
    assert client.post(f"/feedback/{question.pk}/solve/").status_code == HTTPStatus.FOUND
    question.refresh_from_db()
    assert question.solved_at and question.answer == "Use the Repay tab."
    merge = client.post(f"/feedback/{question.pk}/merge/", {"target": "abc"})
    assert merge.status_code == HTTPStatus.BAD_REQUEST and "Give the number of the original post" in merge.content.decode()


def test_post_page_previews_its_visible_comments(client, bob, idea):
    from portal.discussion.models import Comment
    from portal.discussion.services import comment_post

    comment_post(thread=idea.thread, author=bob, body="Yes **please**.")
    hidden = comment_post(thread=idea.thread, author=bob, body="Buy my token.")
    Comment.objects.filter(pk=hidden.pk).update(hidden=True)
    page = client.get(idea.get_absolute_url()).content.decode()
    assert "Yes please." in page and "Buy my token" not in page and "1 comment →" in page
    assert f'href="{idea.thread.get_absolute_url()}#composer"' in page


def test_atom_feeds(client, idea, question, tag):
    idea.tags.add(tag)
    feed = client.get("/feedback/feed.atom")
    assert feed.status_code == HTTPStatus.OK and feed["Content-Type"].startswith("application/atom+xml")
    assert idea.title.encode() in feed.content and question.title.encode() in feed.content
    tagged = client.get("/feedback/tags/lending/feed.atom")
    assert idea.title.encode() in tagged.content and question.title.encode() not in tagged.content
    assert client.get("/feedback/tags/nope/feed.atom").status_code == HTTPStatus.NOT_FOUND


def test_home_card_lists_top_posts(client, idea):
    assert idea.title in client.get("/").content.decode()


# JSON API --------------------------------------------------------------------------------------------------------


def test_api_list_contract(client, alice, bob, idea, question):
    services.vote_add(post=idea, user=bob)
    body = client.get("/api/v1/feedback").json()
    assert body["count"] == 2
    item = next(i for i in body["items"] if i["id"] == idea.pk)
    assert item == {"id": idea.pk, "kind": "idea", "title": idea.title, "status": "open", "votes": 1, "author": alice.username}
    assert [i["id"] for i in client.get("/api/v1/feedback?kind=question").json()["items"]] == [question.pk]
    assert client.get("/api/v1/feedback?status=planned").json() == {"items": [], "count": 0}


@pytest.mark.parametrize(
    ("query", "sentence"),
    [("kind=rant", "kind must be one of idea, bug, question."), ("status=shipped", "status must be one of"),
     ("page=0", PAGE_SENTENCE), ("page=abc", PAGE_SENTENCE)],
)
def test_api_list_bad_filters(client, query, sentence):
    response = client.get(f"/api/v1/feedback?{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST and sentence in response.json()["error"]


def test_api_vote_twice_and_unvote(csrf_client, bob, idea):
    csrf_client.force_login(bob)
    token = csrf_token(csrf_client)
    first = csrf_client.post(f"/api/v1/feedback/{idea.pk}/vote", headers={"X-CSRFToken": token})
    assert first.status_code == HTTPStatus.CREATED and first.json() == {"voted": True, "votes": 1}
    again = csrf_client.post(f"/api/v1/feedback/{idea.pk}/vote", headers={"X-CSRFToken": token})
    assert again.status_code == HTTPStatus.CONFLICT
    assert again.json() == {"error": "You have already voted for this post."}
    assert Vote.objects.count() == 1
    gone = csrf_client.delete(f"/api/v1/feedback/{idea.pk}/vote", headers={"X-CSRFToken": token})
    assert gone.json() == {"voted": False, "votes": 0}
    again = csrf_client.delete(f"/api/v1/feedback/{idea.pk}/vote", headers={"X-CSRFToken": token})
    assert again.status_code == HTTPStatus.CONFLICT and again.json() == {"error": "You have not voted for this post."}


def test_api_create_and_its_refusals(csrf_client, alice):
    token = csrf_token(csrf_client)
    anonymous = csrf_client.post("/api/v1/feedback", json.dumps({"kind": "idea", "title": "x"}),
                                 content_type="application/json", headers={"X-CSRFToken": token})
    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert anonymous.json() == {"error": "Please sign in with your wallet first."}
    csrf_client.force_login(alice)
    token = csrf_token(csrf_client)

    def post(payload):
        return csrf_client.post("/api/v1/feedback", json.dumps(payload), content_type="application/json",
                                headers={"X-CSRFToken": token})

    assert post({"kind": "idea", "title": "   "}).json() == {"error": "The title is empty: write something first."}
    oversize = post({"kind": "question", "title": "ok", "body": "b" * 10_001})
    assert oversize.status_code == HTTPStatus.BAD_REQUEST and "too long" in oversize.json()["error"]
    assert post({"title": "no kind"}).json() == {"error": "The field “kind” is missing: the request needs it."}
    assert not Post.objects.exists()
    created = post({"kind": "idea", "title": "Gas refunds", "body": "Please"})
    assert created.status_code == HTTPStatus.CREATED and created.json()["title"] == "Gas refunds"
    assert created.json()["thread"] is not None


def test_api_status_and_promote_as_non_staff(csrf_client, bob, idea):
    csrf_client.force_login(bob)
    token = csrf_token(csrf_client)
    status = csrf_client.post(f"/api/v1/feedback/{idea.pk}/status", json.dumps({"status": "done", "note": "x"}),
                              content_type="application/json", headers={"X-CSRFToken": token})
    assert status.status_code == HTTPStatus.FORBIDDEN
    assert status.json() == {"error": "Only staff can change a post's status."}
    promote = csrf_client.post(f"/api/v1/feedback/{idea.pk}/promote", headers={"X-CSRFToken": token})
    assert promote.status_code == HTTPStatus.FORBIDDEN
    assert promote.json() == {"error": "Only staff can promote a post to a proposal."}
    missing = csrf_client.post("/api/v1/feedback/999/vote", headers={"X-CSRFToken": token})
    assert missing.status_code == HTTPStatus.NOT_FOUND and missing.json() == {"error": "There is no feedback post #999."}
    idea.refresh_from_db()
    assert idea.status == "open" and idea.proposal_number is None and not StatusChange.objects.exists()


def test_board_queries_do_not_grow_with_posts(client, make_user, tag, django_assert_max_num_queries):
    viewer = make_user(display_name="viewer")
    client.force_login(viewer)

    def add(n):
        for i in range(n):
            post = services.post_create(author=make_user(display_name=f"a{Post.objects.count()}"), kind="idea", title=f"P{i}", body="")
            post.tags.add(tag)
            services.vote_toggle(post=post, user=viewer)

    add(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/feedback/")
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/feedback/")
    assert page.content.decode().count('aria-pressed="true"') == 10


def test_odd_filters_are_ignored_not_errors(client, idea):
    for query in ({"tag": "a b/c"}, {"kind": "nope"}, {"status": "??"}, {"sort": "random"}, {"mine": "1"}):
        assert client.get("/feedback/", query).status_code == HTTPStatus.OK


def test_openapi_documents_the_feedback_endpoints(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == HTTPStatus.OK
    paths = schema.json()["paths"]
    assert {"/api/v1/feedback", "/api/v1/feedback/{post_id}", "/api/v1/feedback/{post_id}/vote"} <= set(paths)


@pytest.mark.parametrize(
    ("target", "sentence", "status"),
    [
        ("abc", "Give the number of the original post to merge into, e.g. 12.", HTTPStatus.BAD_REQUEST),
        ("²", "Give the number of the original post to merge into, e.g. 12.", HTTPStatus.BAD_REQUEST),
        ("#999", "There is no post #999 to merge into.", HTTPStatus.NOT_FOUND),
        ("99999999999999999999999", "There is no post #99999999999999999999999 to merge into.", HTTPStatus.NOT_FOUND),
    ],
)
def test_bad_merge_targets_through_the_page(client, moderator, idea, target, sentence, status):
    client.force_login(moderator)
    response = client.post(f"/feedback/{idea.pk}/merge/", {"target": target})
    assert response.status_code == status and sentence in response.content.decode()
    idea.refresh_from_db()
    assert idea.duplicate_of is None and idea.status == "open" and not StatusChange.objects.exists()


@pytest.mark.parametrize(
    ("path", "form", "sentence", "status"),
    [
        ("claim", {}, "Only staff can claim support questions.", HTTPStatus.FORBIDDEN),
        ("answer", {"answer": "Try this."}, "Only staff can answer support questions officially.", HTTPStatus.FORBIDDEN),
        ("solve", {}, "Only staff can mark questions solved.", HTTPStatus.FORBIDDEN),
        ("promote", {}, "Only staff can promote a post to a proposal.", HTTPStatus.FORBIDDEN),
        ("accept", {}, "Only the person who asked can accept the answer.", HTTPStatus.FORBIDDEN),
        ("reopen", {}, "Only the person who asked can reopen the question.", HTTPStatus.FORBIDDEN),
    ],
)
def test_support_actions_through_the_page_refused_for_members(client, bob, question, path, form, sentence, status):
    client.force_login(bob)
    response = client.post(f"/feedback/{question.pk}/{path}/", form)
    assert response.status_code == status and sentence in response.content.decode().replace("&#x27;", "'")
    question.refresh_from_db()
    assert (question.claimed_by, question.answer, question.solved_at, question.proposal_number) == (None, "", None, None)


def test_empty_answer_through_the_page(client, moderator, question):
    client.force_login(moderator)
    response = client.post(f"/feedback/{question.pk}/answer/", {"answer": "  "})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The answer is empty: write something first." in response.content.decode()
    question.refresh_from_db()
    assert question.answer == "" and question.first_response_at is None


def test_similar_ignores_an_odd_exclude(client, idea):
    for exclude in ("abc", "²", "99999999999999999999999"):
        response = client.get("/feedback/similar/", {"title": "USDC lending", "exclude": exclude})
        assert response.status_code == HTTPStatus.OK


def test_vote_on_a_merged_post_through_the_page(client, moderator, alice, bob, idea):
    original = services.post_create(author=alice, kind="idea", title="Original", body="")
    services.post_merge(source=idea, target=original, by=moderator)
    client.force_login(bob)
    response = client.post(f"/feedback/{idea.pk}/vote/", headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert f"This post was merged into #{original.pk}: vote there instead." in response.content.decode()
    assert not Vote.objects.exists()


def test_missing_post_pages_are_not_found(client, bob):
    client.force_login(bob)
    assert client.get("/feedback/999/").status_code == HTTPStatus.NOT_FOUND
    assert client.post("/feedback/999/vote/").status_code == HTTPStatus.NOT_FOUND
    assert client.post("/feedback/999/claim/").status_code == HTTPStatus.NOT_FOUND


def api_post(client, path: str, payload: dict | None = None):
    token = csrf_token(client)
    body = json.dumps(payload) if payload is not None else None
    return client.post(path, body, content_type="application/json", headers={"X-CSRFToken": token})


@pytest.mark.parametrize(
    ("payload", "sentence", "status"),
    [
        ({"status": "shipped", "note": "x"}, "That is not a status a post can have.", HTTPStatus.BAD_REQUEST),
        ({"status": "planned", "note": " "}, "The staff note is empty: write something first.", HTTPStatus.BAD_REQUEST),
        ({"status": "open", "note": "x"}, "The post is already Open.", HTTPStatus.CONFLICT),
        ({"status": "planned"}, "The field “note” is missing: the request needs it.", HTTPStatus.BAD_REQUEST),
    ],
)
def test_api_bad_status_changes(csrf_client, moderator, idea, payload, sentence, status):
    csrf_client.force_login(moderator)
    response = api_post(csrf_client, f"/api/v1/feedback/{idea.pk}/status", payload)
    assert (response.status_code, response.json()) == (status, {"error": sentence})
    idea.refresh_from_db()
    assert idea.status == "open" and not StatusChange.objects.exists()


def test_api_create_with_an_unknown_tag_and_over_the_rate_limit(csrf_client, alice, settings):
    csrf_client.force_login(alice)
    unknown = api_post(csrf_client, "/api/v1/feedback", {"kind": "idea", "title": "Tagged", "tags": ["nope"]})
    assert (unknown.status_code, unknown.json()) == (HTTPStatus.BAD_REQUEST, {"error": "There is no tag called “nope”."})
    assert not Post.objects.exists()
    settings.PORTAL = {**settings.PORTAL, "FEEDBACK_POSTS_PER_HOUR": 1}
    assert api_post(csrf_client, "/api/v1/feedback", {"kind": "idea", "title": "One"}).status_code == HTTPStatus.CREATED
    limited = api_post(csrf_client, "/api/v1/feedback", {"kind": "idea", "title": "Two"})
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert re.fullmatch(r"You have posted 1 feedback post this hour, the most we take\. "
                        r"Please wait (\d+ minutes?|\d+ seconds?|1 hour) and try again\.", limited.json()["error"])
    assert list(Post.objects.values_list("title", flat=True)) == ["One"]


def test_api_refusals_on_merged_posts_questions_and_missing_ones(csrf_client, moderator, alice, bob, idea, question):
    original = services.post_create(author=alice, kind="idea", title="Original", body="")
    services.post_merge(source=idea, target=original, by=moderator)
    csrf_client.force_login(bob)
    merged = api_post(csrf_client, f"/api/v1/feedback/{idea.pk}/vote")
    assert merged.status_code == HTTPStatus.CONFLICT
    assert merged.json() == {"error": f"This post was merged into #{original.pk}: vote there instead."}
    assert not Vote.objects.exists()
    csrf_client.force_login(moderator)
    promote = api_post(csrf_client, f"/api/v1/feedback/{question.pk}/promote")
    assert (promote.status_code, promote.json()) == (HTTPStatus.BAD_REQUEST, {"error": "Only ideas can become proposals."})
    question.refresh_from_db()
    assert question.proposal_number is None
    missing = csrf_client.get("/api/v1/feedback/999")
    assert (missing.status_code, missing.json()) == (HTTPStatus.NOT_FOUND, {"error": "There is no feedback post #999."})
