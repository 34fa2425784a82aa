"""With the node unreachable, profiles and the directory answer a sentence or what the database knows, never a 500."""

from http import HTTPStatus


def test_with_the_chain_down_the_profile_still_shows_what_the_database_knows(db, make_user, client):
    user = make_user(display_name="Offline Olga")
    page = client.get(f"/u/{user.username}/")
    assert page.status_code == HTTPStatus.OK and "Offline Olga" in page.text and "cannot be reached" in page.text
    answer = client.get(f"/api/v1/accounts/{user.username}").json()
    assert answer["voting_power"] is None and answer["delegates_to"] is None


def test_with_the_chain_down_the_directory_says_so(db, client):
    assert client.get("/api/v1/delegates").status_code == HTTPStatus.SERVICE_UNAVAILABLE
    page = client.get("/delegates/")
    assert page.status_code == HTTPStatus.OK and "cannot be reached" in page.text
