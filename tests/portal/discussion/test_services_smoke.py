from http import HTTPStatus

import pytest

from portal.accounts.models import User
from portal.discussion.models import Comment
from portal.discussion.services import DiscussionError, comment_post, thread_create


@pytest.mark.django_db
def test_thread_create_and_comment_post():
    author = User.objects.create(username="0x" + "1" * 40)
    thread = thread_create(title="Raise the WETH LTV", category_slug="governance", author=None)
    comment = comment_post(thread=thread, author=author, body="I agree")
    assert comment.thread == thread
    with pytest.raises(DiscussionError) as refused:
        comment_post(thread=thread, author=author, body="   ")
    assert refused.value.status == HTTPStatus.BAD_REQUEST
    assert Comment.objects.count() == 1
