"""The site's main pages, as the whole-site browser tests (tests/browser/test_every_page.py) walk them: axe-core in
light and dark, no console error, and on a 390 px phone no sideways scroll with the page's main action within the
first 1.5 screens.

A new page joins by adding one MainPage here. `path` is a URL, or a function of nothing that finds one in the seeded
demo database (`seed_demo`); `action` is a CSS selector of what a person comes to the page to do (vote, comment, post,
follow), seen by the walk's user: the demo admin, anvil's account #0, signed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class MainPage:
    name: str
    path: str | Callable[[], str]
    action: str

    def url(self) -> str:
        return self.path() if callable(self.path) else self.path


def _active_proposal() -> str:
    from governance.models import Proposal

    return next(p for p in Proposal.objects.order_by("number") if p.state == "active").get_absolute_url()


def _proposal_thread() -> str:
    from portal.discussion.models import Thread

    return Thread.objects.filter(proposals__isnull=False).order_by("pk").first().get_absolute_url()


def _incident() -> str:
    from portal.health.models import Incident

    incident = Incident.objects.filter(draft=False, kind=Incident.Kind.INCIDENT).order_by("-started_at").first()
    return reverse("health:incident", args=[incident.code])


def _component() -> str:
    from portal.health.models import Component

    return reverse("health:component", args=[Component.objects.order_by("pk").first().slug])


def _feedback_post() -> str:
    from portal.feedback.models import Post

    return Post.objects.filter(duplicate_of__isnull=True).order_by("-pk").first().get_absolute_url()


def _profile() -> str:
    from portal.conf import DEV_ACCOUNTS

    return reverse("people:profile", args=[DEV_ACCOUNTS[1]])


MAIN_PAGES: list[MainPage] = [
    MainPage("home", "/", ".hero__actions .button"),
    MainPage("proposals", "/proposals/", '[data-testid="new-proposal"]'),
    MainPage("proposal", _active_proposal, "#vote"),
    MainPage("discussion", "/discussion/", '[data-testid="new-thread"]'),
    MainPage("thread", _proposal_thread, '[data-testid="comment-jump"]'),
    MainPage("status", "/status/", '[data-testid="follow-all"]'),
    MainPage("component", _component, '[data-testid="component-status"]'),
    MainPage("incident", _incident, '[data-testid="follow"]'),
    MainPage("feedback", "/feedback/", '[data-testid="new-post"]'),
    MainPage("feedback-post", _feedback_post, '[data-testid="vote-button"]'),
    MainPage("account", "/account/", "#delegation"),
    MainPage("lending", "/lending/", '[data-testid="alert-form"]'),
    MainPage("notifications", "/notifications/", '[data-testid="mark-all-read"]'),
    MainPage("help", "/help/", "#snapshot"),
    MainPage("api-docs", "/api/v1/docs", ".opblock"),
    MainPage("delegates", "/delegates/", '[data-testid="delegates"] .button'),
    MainPage("send-delegation", "/delegates/send/", '[data-testid="signed-send"]'),
    MainPage("profile", _profile, '[data-testid="profile-facts"]'),
    MainPage("search", "/search/?q=liquidation", '[data-testid="search-results"]'),
]
