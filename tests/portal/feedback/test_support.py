from http import HTTPStatus

import pytest

from portal.feedback import support
from portal.errors import Refusal
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_support_question_lifecycle(question, alice, bob, staff, make_user, django_capture_on_commit_callbacks):
    support.question_claim(post=question, by=staff)
    with pytest.raises(Refusal, match="already claimed"):
        support.question_claim(post=question, by=make_user(display_name="staff-two", staff=True))
    with pytest.raises(Refusal, match="Answer the question before marking it solved."):
        support.question_solve(post=question, by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        support.question_answer(post=question, by=staff, body="Open the Loans tab and press Repay.")
    question.refresh_from_db()
    assert question.first_response_at == question.answered_at and question.first_response_seconds >= 0
    assert Notification.objects.get(verb="question_answered").recipient == alice
    with pytest.raises(Refusal, match="Only the person who asked can accept the answer."):
        support.question_accept(post=question, by=bob)
    support.question_accept(post=question, by=alice)
    question.refresh_from_db()
    assert question.accepted_at and question.solved_at and question.status == "done"
    with django_capture_on_commit_callbacks(execute=True):
        support.question_reopen(post=question, by=alice)
    question.refresh_from_db()
    assert question.solved_at is None and question.in_queue
    assert Notification.objects.filter(recipient=staff).count() == 1


def test_answering_as_non_staff_is_refused(question, bob):
    with pytest.raises(Refusal) as refused:
        support.question_answer(post=question, by=bob, body="I think…")
    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert str(refused.value) == "Only staff can answer support questions officially."
    question.refresh_from_db()
    assert question.answer == "" and question.first_response_at is None


@pytest.mark.parametrize(
    ("who", "action", "target", "expected", "http"),
    [
        ("bob", "claim", "question", "Only staff can claim support questions.", HTTPStatus.FORBIDDEN),
        ("anon", "claim", "question", "Please sign in with your wallet to claim support questions.",
         HTTPStatus.UNAUTHORIZED),
        ("staff", "claim", "idea", "Only support questions go through the support queue.", HTTPStatus.BAD_REQUEST),
        ("staff", "answer_empty", "question", "The answer is empty: write something first.", HTTPStatus.BAD_REQUEST),
        ("staff", "answer_long", "question", "The answer is too long: 10,001 characters, at most 10,000 are allowed.",
         HTTPStatus.BAD_REQUEST),
        ("staff", "answer_empty", "idea", "Only support questions go through the support queue.",
         HTTPStatus.BAD_REQUEST),
        ("staff", "solve", "question", "Answer the question before marking it solved.", HTTPStatus.CONFLICT),
        ("alice", "accept", "question", "There is no answer to accept yet.", HTTPStatus.CONFLICT),
        ("anon", "accept", "question", "Please sign in with your wallet to accept the answer.", HTTPStatus.UNAUTHORIZED),
        ("alice", "reopen", "question", "This question is still open.", HTTPStatus.CONFLICT),
        ("bob", "reopen", "question", "Only the person who asked can reopen the question.", HTTPStatus.FORBIDDEN),
    ],
)
def test_bad_support_actions_are_refused_and_write_nothing(
    question, idea, alice, bob, staff, who, action, target, expected, http, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import AnonymousUser

    by = {"alice": alice, "bob": bob, "staff": staff, "anon": AnonymousUser()}[who]
    post = {"question": question, "idea": idea}[target]
    calls = {
        "claim": lambda: support.question_claim(post=post, by=by),
        "answer_empty": lambda: support.question_answer(post=post, by=by, body="  "),
        "answer_long": lambda: support.question_answer(post=post, by=by, body="a" * 10_001),
        "solve": lambda: support.question_solve(post=post, by=by),
        "accept": lambda: support.question_accept(post=post, by=by),
        "reopen": lambda: support.question_reopen(post=post, by=by),
    }
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Refusal) as refused:
        calls[action]()
    assert (str(refused.value), refused.value.status) == (expected, http)
    post.refresh_from_db()
    assert (post.claimed_by, post.answer, post.solved_at, post.accepted_at, post.status) == (None, "", None, None, "open")
    assert not Notification.objects.exists()


def test_solving_twice_is_refused(question, staff):
    support.question_answer(post=question, by=staff, body="Use the Repay tab.")
    solved = support.question_solve(post=question, by=staff)
    with pytest.raises(Refusal) as refused:
        support.question_solve(post=question, by=staff)
    assert (str(refused.value), refused.value.status) == ("This question is already solved.", HTTPStatus.CONFLICT)
    question.refresh_from_db()
    assert question.solved_at == solved.solved_at
