"""@mentions (by address or by a display name only one account holds) notify the person mentioned, once, through the
comment's durable reply effect; an @address links to its profile. Quote-reply starts the composer with the comment
as a blockquote, with or without JavaScript."""

from http import HTTPStatus

import pytest
from django.test import Client

from portal.discussion import moderation, services
from portal.discussion.mentions import mentioned_users
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(make_user):
    return services.thread_create(title="Oracle choices", category_slug="general", author=make_user(display_name="Otto"),
                                  body="Which feed should we use?")


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def write(thread, author, body, parent=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.comment_post(thread=thread, author=author, body=body, parent=parent)

    return write


def _mentions(user):
    return list(Notification.objects.filter(recipient=user, verb="mention").values_list("text", flat=True))


def test_a_mention_by_address_or_name_notifies_once(thread, make_user, post):
    bea, cleo, writer = make_user(display_name="Bea"), make_user(display_name="Cleo"), make_user(display_name="Wes")
    comment = post(thread, writer, f"@{bea.username} and @cleo, what do you think? Thanks @Bea.")
    assert _mentions(bea) == ["Wes mentioned you in “Oracle choices”"]
    assert _mentions(cleo) == ["Wes mentioned you in “Oracle choices”"]
    assert f'href="/u/{bea.username.lower()}/"' in comment.html and f"@{bea.username[:6].lower()}…" in comment.html


def test_nobody_is_told_for_an_ambiguous_name_code_or_themselves(thread, make_user, post):
    make_user(display_name="Sam")
    make_user(display_name="sam")
    quiet = make_user(display_name="Quinn")
    writer = make_user(display_name="Wes")
    post(thread, writer, "@Sam? Also `@Quinn` in code, and\n\n```\n@Quinn\n```\n\n    @Quinn indented\n\n"
                         "and [@Quinn](https://example.org) in a link, and me, @Wes, and email quinn@Quinn.")
    assert not Notification.objects.filter(verb="mention").exists()
    assert mentioned_users("@Quinn") == [quiet]


def test_a_quoted_author_gets_the_reply_not_also_a_mention(thread, make_user, post):
    bea, writer = make_user(display_name="Bea"), make_user(display_name="Wes")
    first = post(thread, bea, "Chainlink.")
    post(thread, writer, "@Bea agreed.", parent=first)
    assert Notification.objects.filter(recipient=bea).values_list("verb", flat=True).get() == "comment_reply"


def test_a_mention_in_a_hidden_thread_tells_nobody(thread, make_user, post):
    moderator = make_user(groups=["moderators"])
    moderation.thread_moderate(thread=thread, moderator=moderator, action="hide")
    bea = make_user(display_name="Bea")
    post(thread, moderator, "@Bea see this.")
    assert _mentions(bea) == []


def test_quote_reply_prefills_the_composer(thread, make_user, post):
    writer, reader = make_user(), make_user()
    quoted = post(thread, writer, "Use **two** feeds.\n\nAnd a fallback.")
    client = Client()
    client.force_login(reader)
    page = client.get(f"{thread.get_absolute_url()}?reply={quoted.pk}&quote=1")
    assert page.status_code == HTTPStatus.OK
    assert "&gt; Use **two** feeds.\n&gt;\n&gt; And a fallback.\n\n</textarea>" in page.text
    assert 'data-testid="quote"' in page.text
    moderation.comment_hide(comment=quoted, moderator=make_user(groups=["moderators"]))
    hidden = client.get(f"{thread.get_absolute_url()}?reply={quoted.pk}&quote=1").text
    assert "Use **two** feeds" not in hidden


def test_a_name_mention_links_to_the_profile_where_a_reader_sees_plain_text(thread, make_user, post):
    bea = make_user(display_name="Bea")
    make_user(display_name="Sam")
    make_user(display_name="sam")
    body = ("Thanks @Bea! `@Bea` and [@Bea](https://example.org) and @Nobody and @Sam.\n\n```\n@Bea\n```\n\n"
            "    @Bea indented\n\nmail bea@Bea.org")
    html = post(thread, make_user(display_name="Wes"), body).html
    link = f'<a href="/u/{bea.username}/" rel="nofollow noopener noreferrer ugc">@Bea</a>'  # through the nh3 allow-list
    assert html.count(link) == 1 and html.startswith(f"<p>Thanks {link}!")
    assert "<code>@Bea</code>" in html and '<a href="https://example.org" rel="nofollow noopener noreferrer ugc">@Bea</a>' in html
    assert "@Nobody and @Sam." in html  # unknown and ambiguous names stay text
    assert "<pre><code>@Bea\n</code></pre>" in html and "@Bea indented" in html and "bea@Bea.org" in html


def test_the_migrate_backfill_links_names_in_older_comments(thread, make_user, post):
    from portal.discussion.models import Comment
    from portal.discussion.rendering import comment_html_backfill
    from portal.markdown import RENDERER_VERSION

    bea, cleo = make_user(display_name="Bea"), make_user(display_name="Cleo")
    first, second = post(thread, cleo, "cc @Bea"), post(thread, bea, "and @Cleo")
    Comment.objects.filter(pk__in=[first.pk, second.pk]).update(html="<p>old</p>", html_version=RENDERER_VERSION - 1)
    assert comment_html_backfill() == 2
    assert f'href="/u/{bea.username}/"' in Comment.objects.get(pk=first.pk).html
    assert f'href="/u/{cleo.username}/"' in Comment.objects.get(pk=second.pk).html
