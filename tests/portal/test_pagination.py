"""The feedback board and the discussion index come in pages (56 posts were an 11,000 px phone page): previous/next
links keep the filters, a page past the end says so, a page that is not a positive whole number is a 400 sentence."""

from http import HTTPStatus

import pytest

from portal.discussion.models import Category, Thread
from portal.feedback.models import Post


@pytest.fixture
def many_posts(db, make_user):
    author = make_user()
    Post.objects.bulk_create(Post(author=author, kind="idea", title=f"Idea number {n}") for n in range(45))


@pytest.fixture
def many_threads(db, make_user):
    author = make_user()
    general = Category.objects.get_or_create(slug="general", defaults={"name": "General"})[0]
    Thread.objects.bulk_create(Thread(category=general, author=author, title=f"Thread number {n}") for n in range(65))


def test_the_feedback_board_comes_in_pages_of_twenty(many_posts, client):
    first = client.get("/feedback/?sort=new&kind=idea")
    assert first.text.count("Idea number") == 20
    assert 'href="?sort=new&amp;kind=idea&amp;page=2"' in first.text and 'rel="prev"' not in first.text
    third = client.get("/feedback/?sort=new&kind=idea&page=3")
    assert third.text.count("Idea number") == 5 and 'rel="prev"' in third.text and 'rel="next"' not in third.text
    assert "There are no more posts" in client.get("/feedback/?page=4").text


def test_the_discussion_index_comes_in_pages_of_thirty(many_threads, client):
    first = client.get("/discussion/")
    assert first.text.count("Thread number") == 30 and 'href="?page=2"' in first.text
    assert client.get("/discussion/?page=3").text.count("Thread number") == 5
    assert "There are no more threads" in client.get("/discussion/?page=9").text
    assert client.get("/discussion/c/general/?page=2").text.count("Thread number") == 30


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "²"])
@pytest.mark.parametrize("path", ["/feedback/", "/discussion/", "/delegates/", "/search/?q=idea&"])
def test_a_page_that_is_not_a_positive_whole_number_is_a_sentence(db, client, path, page):
    joiner = "" if path.endswith("&") else "?"
    response = client.get(f"{path}{joiner}page={page}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The page must be a positive whole number" in response.text
