"""Search over proposals, threads, comments, feedback and incidents (/search/, GET /api/v1/search): ranked and
highlighted, PostgreSQL full-text search in the services run and SQLite FTS5 in the embedded one, through one selector.
Hidden comments and threads are never found by those who may not see them; any text typed is a sentence or a result,
never a 500."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.models import Proposal
from portal.discussion import moderation, services as discussion
from portal.discussion.selectors import Viewer
from portal.errors import Refusal
from portal.feedback import services as feedback
from portal.health.services.incidents import incident_create
from portal.search import selectors
from portal.search.index import search_reindex
from portal.search.models import SearchEntry
from portal.search.selectors import query_parse, search


@pytest.fixture
def thread(make_user):
    author = make_user(display_name="Ada")
    return discussion.thread_create(
        title="Raising the WETH loan-to-value", category_slug="general", author=author,
        body="Should the collateral factor of WETH go up?",
    )


@pytest.fixture
def moderator(make_user):
    return make_user(groups=["moderators"], display_name="Mo")


def _comment(thread, author, body):
    return discussion.comment_post(thread=thread, author=author, body=body)


def _api(client, **params):
    return client.get("/api/v1/search", params)


def test_each_kind_is_found_by_a_word_and_titles_rank_first(db, thread, make_user, client,
                                                            django_capture_on_commit_callbacks):
    commenter = make_user()
    _comment(thread, commenter, "I think the **liquidation** bonus matters more than the collateral factor.")
    now = timezone.now()
    Proposal.objects.create(number=7, title="Lower the liquidation bonus", body="From 8% to 6%.", start=now,
                            end=now + timedelta(days=1))
    feedback.post_create(author=commenter, kind="idea", title="Explain liquidation in plain words", body="")
    staff = make_user(groups=["status"], staff=True)
    with django_capture_on_commit_callbacks(execute=True):  # an incident's entry is written after its commit
        incident_create(user=staff, name="Liquidation bot delayed", impact="minor", status="investigating",
                        body="Liquidations run late.", component_codes=[])
    answer = _api(client, q="liquidation").json()
    kinds = [item["kind"] for item in answer["items"]]
    # the feedback post comes with its discussion thread
    assert answer["count"] == 5 and sorted(kinds) == ["comment", "feedback", "incident", "proposal", "thread"]
    assert kinds[-1] == "comment"  # the only one with the word in its body alone
    proposal = next(i for i in answer["items"] if i["kind"] == "proposal")
    assert proposal == {"kind": "proposal", "title": "LIP-7: Lower the liquidation bonus", "url": "/proposals/7/",
                        "snippet": proposal["snippet"]}
    comment = next(i for i in answer["items"] if i["kind"] == "comment")
    assert "<mark>liquidation</mark>" in comment["snippet"] and "**" not in comment["snippet"]
    only = _api(client, q="liquidation", kind="feedback").json()
    assert only["count"] == 1 and only["items"][0]["title"] == "Explain liquidation in plain words"
    page = client.get("/search/", {"q": "liquidation"}).text
    assert "Lower the liquidation bonus" in page and "<mark>" in page and "Comments" in page


def test_hidden_comments_and_threads_are_found_only_by_moderators(db, thread, make_user, moderator):
    writer = make_user()
    hidden = _comment(thread, writer, "The oracle deviation is worrying.")
    moderation.comment_hide(comment=hidden, moderator=moderator)
    deleted = _comment(thread, writer, "A deleted remark about the oracle.")
    discussion.comment_delete(comment=deleted, user=writer)
    everyone, mine, mod = Viewer(), Viewer.of(writer), Viewer.of(moderator)
    assert search(query="oracle", viewer=everyone).count == 0
    assert search(query="oracle", viewer=mine).count == 0
    assert [h.url for h in search(query="oracle", viewer=mod).hits] == [hidden.get_absolute_url()]
    shown = _comment(thread, writer, "Collateral is fine.")
    assert search(query="collateral", viewer=everyone).count == 2  # the thread and the comment
    moderation.thread_moderate(thread=thread, moderator=moderator, action="hide")
    assert search(query="collateral", viewer=everyone).count == 0
    assert {h.url for h in search(query="collateral", viewer=mod).hits} == {thread.get_absolute_url(), shown.get_absolute_url()}
    api = Client().get("/api/v1/search", {"q": "collateral"}).json()
    assert api == {"items": [], "count": 0}


def test_a_draft_incident_is_not_found(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(user=None, name="Sampler saw oracle lag", impact="minor", status="investigating",
                        body="Detected automatically.", component_codes=[], draft=True)
    assert search(query="sampler", viewer=Viewer()).count == 0


def test_an_edited_comment_is_found_by_its_new_words_only(db, thread, make_user):
    writer = make_user()
    comment = _comment(thread, writer, "Typo in the tresury report.")
    discussion.comment_edit(comment=comment, editor=writer, body="Typo in the treasury report.")
    assert search(query="treasury", viewer=Viewer()).count == 1
    assert search(query="tresury", viewer=Viewer()).count == 0


def test_quotes_make_a_phrase_and_a_minus_leaves_a_word_out(db, thread, make_user):
    writer = make_user()
    _comment(thread, writer, "The reserve factor of USDC.")
    _comment(thread, writer, "The factor of reserve for DAI.")
    assert search(query='"reserve factor"', viewer=Viewer()).count == 1
    assert search(query="reserve factor", viewer=Viewer()).count == 2
    assert search(query="reserve -usdc", viewer=Viewer()).count == 1


def test_the_snippet_is_escaped_text(db, thread, make_user):
    _comment(thread, make_user(), "Use `<script>alert(1)</script>` in the payload field.")
    hit = search(query="payload", viewer=Viewer()).hits[0]
    assert "<mark>payload</mark>" in hit.snippet
    # the only markup is <mark>: FTS5 keeps the text (escaped), PostgreSQL's ts_headline drops tag-like words
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


@pytest.mark.parametrize(
    "query",
    ['(reserve OR factor) AND NOT dai*', '"reserve', 'reserve"', "NEAR(a b)", "title:reserve", "'; DROP TABLE x; --",
     "Überweisung 日本語 🚀", "-", "!!! ??? ***", "^reserve$", "a & b | !c <-> d", "\\\"\\", "\x00", "OR", "-reserve"],
    ids=["boolean", "open-quote", "close-quote", "near", "column", "sql", "unicode", "minus", "punctuation",
         "anchors", "tsquery-ops", "backslashes", "nul", "bare-or", "only-excluded"],
)
def test_operators_quotes_and_unicode_are_just_text(db, thread, query, client):
    response = _api(client, q=query)
    assert response.status_code == HTTPStatus.OK, response.json()
    assert set(response.json()) == {"items", "count"}
    assert client.get("/search/", {"q": query}).status_code == HTTPStatus.OK


def test_a_query_of_ten_thousand_characters_is_a_sentence(db, client):
    response = _api(client, q="reserve " * 1250)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "The search is too long: 9,999 characters, at most 200 are allowed."
    page = client.get("/search/", {"q": "x" * 10_000})
    assert page.status_code == HTTPStatus.BAD_REQUEST and "The search is too long" in page.text


def test_no_query_a_bad_kind_and_a_bad_page_are_sentences(db, client):
    assert _api(client).json()["error"].startswith("Type what you are looking for")
    assert _api(client, q="x", kind="people").status_code == HTTPStatus.BAD_REQUEST
    bad_page = _api(client, q="x", page="two")
    assert bad_page.status_code == HTTPStatus.BAD_REQUEST and "positive whole number" in bad_page.json()["error"]
    assert _api(client, q="x", page="999999").json() == {"items": [], "count": 0}
    assert client.get("/search/").status_code == HTTPStatus.OK


def test_results_are_paginated(db, thread, make_user, client, monkeypatch):
    writer = make_user(joined=timedelta(days=30))
    monkeypatch.setitem(django_settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE", 100)
    for n in range(25):
        _comment(thread, writer, f"Quorum note number {n}.")
    first, second = _api(client, q="quorum").json(), _api(client, q="quorum", page="2").json()
    assert first["count"] == second["count"] == 25
    assert len(first["items"]) == 20 and len(second["items"]) == 5
    assert not {i["url"] for i in first["items"]} & {i["url"] for i in second["items"]}


def test_reindex_rebuilds_the_same_entries(db, thread, make_user):
    _comment(thread, make_user(), "Rebuild me.")
    before = sorted(SearchEntry.objects.values_list("kind", "object_id", "title", "body"))
    assert search_reindex() == len(before)
    assert sorted(SearchEntry.objects.values_list("kind", "object_id", "title", "body")) == before
    assert search(query="rebuild", viewer=Viewer()).count == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=250))
def test_any_text_is_a_result_or_a_sentence(db, text):
    try:
        query = query_parse(text)
    except Refusal:
        return
    results = search(query=query, viewer=Viewer())
    assert results.count >= 0


def _old_order(query: str) -> list[str]:
    """The ranking before it was bounded: every visible match ranked (ts_rank / bm25), then newest first."""
    terms = selectors.terms_of(query)
    if connection.vendor == "postgresql":
        found, ts_query = selectors._postgresql(selectors._websearch(terms))
        found = found.annotate(rank=SearchRank(F("vector"), ts_query))
    else:
        found = selectors._sqlite(selectors._fts5_expression(terms))
    rows = found.filter(selectors._visible(Viewer())).order_by("-rank", "-created", "-id")
    return list(rows.values_list("url", flat=True))


def _every_page(query: str, viewer: Viewer, **options) -> list[str]:
    urls, page = [], 1
    while hits := search(query=query, viewer=viewer, page=page, **options).hits:
        urls += [hit.url for hit in hits]
        page += 1
    return urls


@pytest.mark.parametrize("query", ["quorum", "delegate", '"quorum delegate"', "quorum -delegate", "treasury quorum"])
def test_a_selective_query_is_ranked_as_before(db, thread, make_user, monkeypatch, query):
    """Fewer matches than RANK_WINDOW per kind: every one is ranked, in the order ranking all of them gave."""
    monkeypatch.setitem(django_settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE", 100)
    writer = make_user(joined=timedelta(days=30))
    words = ["quorum", "delegate", "treasury", "quorum delegate", "delegate quorum quorum", "treasury quorum"]
    for n in range(30):
        _comment(thread, writer, f"Note {n}: {words[n % len(words)]} " + "padding " * (n % 7))
    now = timezone.now()
    for n in range(6):
        Proposal.objects.create(number=n + 1, title=f"Set the {words[n]}", body=f"About the {words[-n]}.", start=now,
                                end=now + timedelta(days=1))
    old = _old_order(query)
    assert len(old) > selectors.PAGE_SIZE or query != "quorum"  # the order is compared across pages too
    assert _every_page(query, Viewer()) == old
    assert _every_page(query, Viewer(), exact_count=True) == old


def test_a_common_word_ranks_the_newest_counts_to_a_cap_and_pages_reach_every_match(
        db, thread, make_user, moderator, client, monkeypatch):
    """PostgreSQL: past RANK_WINDOW a kind's older matches follow newest first, past COUNT_CAP the page says "5+",
    the API's count stays exact; on every path hidden comments and hidden threads' comments are found by moderators
    only. (SQLite ranks and counts every match.)"""
    if connection.vendor != "postgresql":
        pytest.skip("the bounded ranking is PostgreSQL's")
    monkeypatch.setattr(selectors, "RANK_WINDOW", 3)
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    monkeypatch.setitem(django_settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE", 100)
    writer = make_user(joined=timedelta(days=30))
    shown = [_comment(thread, writer, f"Collateral note {n}" + " collateral" * (n % 3)) for n in range(8)]
    hidden = _comment(thread, writer, "Collateral, hidden.")
    moderation.comment_hide(comment=hidden, moderator=moderator)
    secret = discussion.thread_create(title="Secret", category_slug="general", author=writer, body="Nothing here.")
    in_secret = _comment(secret, writer, "Collateral in a hidden thread.")
    moderation.thread_moderate(thread=secret, moderator=moderator, action="hide")
    visible = {thread.get_absolute_url(), *(c.get_absolute_url() for c in shown)}

    everyone = _every_page("collateral", Viewer(), exact_count=True)
    assert len(everyone) == len(set(everyone)) and set(everyone) == visible
    newest = [c.get_absolute_url() for c in reversed(shown)]
    assert set(everyone[:4]) == {thread.get_absolute_url(), *newest[:3]}  # the window: the thread, 3 newest comments
    assert everyone[4:] == newest[3:]  # then the older comments, newest first
    assert _every_page("collateral", Viewer()) == everyone  # a capped count changes nothing but the count
    assert set(_every_page("collateral", Viewer.of(moderator), exact_count=True)) == visible | {
        hidden.get_absolute_url(), in_secret.get_absolute_url()}

    capped = search(query="collateral", viewer=Viewer())
    assert (capped.count_text, capped.tabs) == ("6+", [("thread", "1"), ("comment", "5+")])
    exact = search(query="collateral", viewer=Viewer(), exact_count=True)
    assert (exact.count_text, exact.capped) == ("9", frozenset())
    assert _api(client, q="collateral").json()["count"] == 9
    assert _api(client, q="collateral", kind="comment", page="2").json()["count"] == 8
    page = client.get("/search/", {"q": "collateral"}).text
    assert "6+ results" in page and "in a hidden thread" not in page and "hidden." not in page
    assert 'data-testid="page-next"' in client.get("/search/", {"q": "collateral", "page": "2"}).text  # past 6
    last = client.get("/search/", {"q": "collateral", "page": "3"}).text
    assert "</mark> note 0" in last and 'data-testid="page-next"' not in last


@pytest.mark.parametrize("query", [
    '"reserve factor"', '"reserve factor cap"', '"reserve of the factor"', '"e-mail address"', '"Überweisung gebühr"',
    '"factor reserve"', '"loan to value"', '"weth loan"', '"value should"', '"reserve factor" "factor cap"',
    '"reserve factor" -usdc', '"cap cap"',
])
def test_a_phrase_finds_what_its_word_positions_say_whatever_the_pairs_index_narrows(db, thread, make_user,
                                                                                     monkeypatch, query):
    """PostgreSQL narrows a phrase's candidates by its word pairs (migration 0003) before reading positions: the
    same entries must come back as the phrase alone finds — across a title and its body, around stop words,
    hyphenated and non-ASCII words, and where every pair of a three-word phrase is there but not side by side."""
    monkeypatch.setitem(django_settings.PORTAL, "DISCUSSION_POSTS_PER_MINUTE", 100)
    writer = make_user(joined=timedelta(days=30))
    for body in ["The reserve factor of USDC.", "The reserve factor cap for DAI.", "A reserve factor; later a factor cap.",
                 "The reserve of the factor.", "Send an e-mail address.", "Die Überweisung Gebühr ist hoch.",
                 "Cap cap cap.", "The factor, reserve."]:
        _comment(thread, writer, body)
    expected = sorted(_old_order(query))
    assert sorted(_every_page(query, Viewer())) == expected
    assert search(query=query, viewer=Viewer(), exact_count=True).count == len(expected)
    if connection.vendor == "postgresql":
        assert SearchEntry.objects.filter(pairs__isnull=False).count() == SearchEntry.objects.count()


def test_the_pair_tokens_are_hex_and_a_gap_makes_none(db):
    if connection.vendor != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    tokens = selectors.pair_tokens(["reserve factor cap"])
    assert len(tokens) == 2 and all(len(token) == 16 and int(token, 16) >= 0 for token in tokens)
    assert selectors.pair_tokens(["reserve of the factor"]) == []  # stop words leave a gap: no pair
    assert selectors.pair_tokens(["'; DROP TABLE x; --"]) == selectors.pair_tokens(["drop table x"])
