from http import HTTPStatus

import pytest

from portal.feedback import support
from portal.feedback.services import FeedbackError
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_support_question_lifecycle(question, alice, bob, staff, make_user, django_capture_on_commit_callbacks):
    support.question_claim(post=question, by=staff)
    with pytest.raises(FeedbackError, match="already claimed"):
        support.question_claim(post=question, by=make_user("staff-two", is_staff=True))
    with pytest.raises(FeedbackError, match="Answer the question before marking it solved."):
        support.question_solve(post=question, by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        support.question_answer(post=question, by=staff, body="Open the Loans tab and press Repay.")
    question.refresh_from_db()
    assert question.first_response_at == question.answered_at and question.first_response_seconds >= 0
    assert Notification.objects.get(verb="question_answered").recipient == alice
    with pytest.raises(FeedbackError, match="Only the person who asked can accept the answer."):
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
    with pytest.raises(FeedbackError) as refused:
        support.question_answer(post=question, by=bob, body="I think…")
    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert str(refused.value) == "Only staff can answer support questions officially."
    question.refresh_from_db()
    assert question.answer == "" and question.first_response_at is None
