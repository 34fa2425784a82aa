import json
from http import HTTPStatus

import pytest

from portal.feedback import services
from portal.feedback.models import Post, StatusChange, Vote
from portal.errors import Refusal
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_post_create_makes_a_comment_thread_in_the_feedback_category(idea):
    assert idea.thread is not None and idea.thread.category.slug == "feedback"
    assert idea.get_absolute_url() in idea.thread.body


def test_toggle_votes_once_and_back(idea, bob):
    assert services.vote_toggle(post=idea, user=bob) == (True, 1)
    assert services.vote_toggle(post=idea, user=bob) == (False, 0)
    assert services.vote_toggle(post=idea, user=bob) == (True, 1)
    assert Vote.objects.filter(post=idea).count() == 1


def test_voting_twice_is_refused_and_writes_nothing(idea, bob):
    services.vote_add(post=idea, user=bob)
    with pytest.raises(Refusal) as refused:
        services.vote_add(post=idea, user=bob)
    assert refused.value.status == HTTPStatus.CONFLICT
    assert str(refused.value) == "You have already voted for this post."
    assert Vote.objects.count() == 1 and Post.objects.get(pk=idea.pk).vote_count == 1


def test_merge_moves_votes_without_double_counting(alice, bob, make_user, staff):
    original = services.post_create(author=alice, kind="idea", title="Dark mode", body="")
    duplicate = services.post_create(author=bob, kind="idea", title="Night theme", body="")
    carol, dave, erin = make_user(display_name="carol"), make_user(display_name="dave"), make_user(display_name="erin")
    for user in (carol, dave):
        services.vote_add(post=original, user=user)
    for user in (dave, erin, bob):  # dave voted on both: he must count once
        services.vote_add(post=duplicate, user=user)
    target = services.post_merge(source=duplicate, target=original, by=staff)
    assert target.vote_count == 4
    assert set(Vote.objects.filter(post=original).values_list("user__display_name", flat=True)) == {
        "carol", "dave", "erin", "bob"
    }
    duplicate.refresh_from_db()
    assert duplicate.vote_count == 0 and duplicate.status == "duplicate" and duplicate.duplicate_of == original
    assert list(original.duplicates.all()) == [duplicate]
    with pytest.raises(Refusal, match="merged into"):
        services.vote_add(post=duplicate, user=make_user(display_name="frank"))


def test_merge_refusals(idea, bob, staff):
    other = services.post_create(author=bob, kind="idea", title="Another", body="")
    with pytest.raises(Refusal, match="Only staff can merge posts."):
        services.post_merge(source=other, target=idea, by=bob)
    with pytest.raises(Refusal, match="cannot be merged into itself"):
        services.post_merge(source=idea, target=idea, by=staff)
    assert not StatusChange.objects.exists()


def test_merging_a_merged_post_or_into_one_is_refused(idea, alice, bob, staff):
    original = services.post_create(author=alice, kind="idea", title="Original", body="")
    third = services.post_create(author=bob, kind="idea", title="Third", body="")
    services.vote_add(post=third, user=alice)
    services.post_merge(source=idea, target=original, by=staff)
    for source, target, expected in [
        (idea, third, f"This post was already merged into #{original.pk}."),
        (third, idea, f"#{idea.pk} is itself a duplicate of #{original.pk}: merge into that one."),
    ]:
        with pytest.raises(Refusal) as refused:
            services.post_merge(source=source, target=target, by=staff)
        assert (str(refused.value), refused.value.status) == (expected, HTTPStatus.CONFLICT)
    third.refresh_from_db()
    assert third.duplicate_of is None and third.vote_count == 1 and StatusChange.objects.count() == 1


def test_status_change_notifies_author_and_voters_and_nobody_else(
    idea, bob, make_user, moderator, django_capture_on_commit_callbacks
):
    carol, bystander = make_user(display_name="carol"), make_user(display_name="bystander")
    services.vote_add(post=idea, user=bob)
    services.vote_add(post=idea, user=carol)
    services.vote_add(post=idea, user=moderator)  # the staff member acting is not told about their own change
    other = services.post_create(author=bystander, kind="idea", title="Unrelated", body="")
    services.vote_add(post=other, user=make_user(display_name="other-voter"))
    with django_capture_on_commit_callbacks(execute=True):
        change = services.post_status_set(post=idea, by=moderator, status="planned", note="Scheduled for Q3.")
    assert change.from_status == "open" and change.to_status == "planned"
    idea.refresh_from_db()
    assert idea.status == "planned" and idea.status_note == "Scheduled for Q3."
    notes = Notification.objects.filter(verb="post_status")
    assert sorted(notes.values_list("recipient__display_name", flat=True)) == ["alice", "bob", "carol"]
    assert all("is now Planned: Scheduled for Q3." in n.text for n in notes)


@pytest.mark.parametrize(
    ("who", "status", "note", "expected", "http"),
    [
        ("bob", "planned", "because", "Only staff can change a post's status.", HTTPStatus.FORBIDDEN),
        ("anon", "planned", "because", "Please sign in with your wallet to change a post's status.", HTTPStatus.UNAUTHORIZED),
        ("staff", "planned", "   ", "The staff note is empty: write something first.", HTTPStatus.BAD_REQUEST),
        ("staff", "planned", "x" * 2001, "The staff note is too long: 2,001 characters, at most 2,000 are allowed.",
         HTTPStatus.BAD_REQUEST),
        ("staff", "shipped", "because", "That is not a status a post can have.", HTTPStatus.BAD_REQUEST),
        ("staff", "open", "because", "The post is already Open.", HTTPStatus.CONFLICT),
        ("staff", "duplicate", "because", "To mark a post as a duplicate, merge it into the original post.",
         HTTPStatus.BAD_REQUEST),
    ],
)
def test_bad_status_changes_are_refused_and_write_nothing(idea, bob, staff, who, status, note, expected, http):
    from django.contrib.auth.models import AnonymousUser

    by = {"bob": bob, "staff": staff, "anon": AnonymousUser()}[who]
    with pytest.raises(Refusal) as refused:
        services.post_status_set(post=idea, by=by, status=status, note=note)
    assert (str(refused.value), refused.value.status) == (expected, http)
    idea.refresh_from_db()
    assert idea.status == "open" and not StatusChange.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    ("kind", "title", "body", "expected"),
    [
        ("idea", "", "", "The title is empty: write something first."),
        ("idea", "   ", "", "The title is empty: write something first."),
        ("idea", "t" * 151, "", "The title is too long: 151 characters, at most 150 are allowed."),
        ("bug", "Broken", "", "The description is empty: write something first."),
        ("idea", "Fine", "b" * 10_001, "The description is too long: 10,001 characters, at most 10,000 are allowed."),
        ("rant", "Fine", "body", "Choose what kind of post this is: an idea, a bug report or a support question."),
    ],
)
def test_bad_posts_are_refused_and_write_nothing(alice, kind, title, body, expected):
    with pytest.raises(Refusal, match=expected.replace("(", r"\(")) as refused:
        services.post_create(author=alice, kind=kind, title=title, body=body)
    assert refused.value.status == HTTPStatus.BAD_REQUEST
    assert not Post.objects.exists()


def test_post_creation_is_rate_limited(alice, settings):
    settings.PORTAL = {**settings.PORTAL, "FEEDBACK_POSTS_PER_HOUR": 2}
    from portal.ratelimit import RateLimited

    services.post_create(author=alice, kind="idea", title="One", body="")
    services.post_create(author=alice, kind="idea", title="Two", body="")
    with pytest.raises(RateLimited):
        services.post_create(author=alice, kind="idea", title="Three", body="")
    assert Post.objects.count() == 2


def test_a_status_change_reaches_a_feedback_webhook(idea, moderator, receiver, run_effects):
    from portal.health.models import Webhook

    Webhook.objects.create(url=receiver.url, topics=["feedback"])
    Webhook.objects.create(url=receiver.url, topics=["status", "governance"])  # not subscribed to feedback
    services.post_status_set(post=idea, by=moderator, status="planned", note="Next quarter.")
    run_effects()
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert headers["X-Portal-Event"] == "feedback.status_changed"
    assert payload["post"]["id"] == idea.pk and payload["post"]["status"] == "planned"
    assert payload["change"] == {"from": "open", "to": "planned", "note": "Next quarter.",
                                 "at": payload["change"]["at"]}
