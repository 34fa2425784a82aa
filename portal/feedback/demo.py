"""Demo content for `seed_demo` (idempotent: posts are found by title, so a second run changes nothing).

Anvil #1–#4 post ideas, a bug and support questions and vote on each other's; #0 (admin) moves ideas through the
statuses, merges a duplicate, promotes one idea to a draft proposal and answers one question. A Gold-tier (#1) and a
Bronze-tier (#4) question wait in the queue, so the demo shows the queue's order.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.conf import DEV_ACCOUNTS

from . import services, support
from .models import Post, Tag

TAGS = (("lending", "Lending"), ("ux", "UX"), ("governance", "Governance"), ("mobile", "Mobile"))
# (author index, kind, title, body, tags, hours ago)
POSTS = (
    (1, "idea", "Add a USDC lending market",
     "Stablecoin deposits with a **low, stable** borrow rate would bring in savers who avoid volatile assets.",
     ["lending"], 120),
    (2, "idea", "Dark mode for the dashboard", "Reading positions at night hurts. Follow the system setting.", ["ux"], 100),
    (3, "bug", "Repay button keeps spinning on mobile",
     ("On iOS Safari the *Repay* button spins forever after the wallet confirms.\n\n"
      "1. Open Positions\n2. Repay 10 DUSD\n3. Confirm in the wallet"), ["mobile"], 90),
    (4, "idea", "Email alerts before liquidation", "A heads-up at 80% loan-to-value, before it is too late.", ["lending"], 60),
    (2, "idea", "A stablecoin market please", "USDC or DAI, either is fine.", ["lending"], 50),
    (3, "idea", "Delegate votes by category", "Let me delegate risk votes to one person and treasury votes to another.",
     ["governance"], 30),
    (4, "question", "Why is my health factor lower than yesterday?",
     "I did not borrow anything new, but my health factor dropped from 2.1 to 1.7.", [], 20),
    (1, "question", "How do I delegate my loyalty votes to a friend?",
     "I will be travelling during the next vote. Can someone vote with my weight?", [], 6),
    (3, "question", "Where do I see the interest I earned?", "The dashboard shows my balance but not the interest.", [], 48),
)
VOTES = {  # title → voter indices
    "Add a USDC lending market": (2, 3, 4),
    "Dark mode for the dashboard": (1, 3),
    "Repay button keeps spinning on mobile": (1, 2, 4),
    "Email alerts before liquidation": (1, 2, 3),
    "A stablecoin market please": (3, 4),
    "Delegate votes by category": (1, 4),
}


def seed(*, stdout) -> None:
    users = {i: User.objects.filter(username=address).first() for i, address in enumerate(DEV_ACCOUNTS[:5])}
    if any(user is None for user in users.values()):
        stdout.write("Feedback: skipped, the demo accounts do not exist yet.\n")
        return
    if Post.objects.filter(title=POSTS[0][2]).exists():
        stdout.write("Feedback: demo posts already there.\n")
        return
    admin = users[0]
    with transaction.atomic():
        for slug, name in TAGS:
            Tag.objects.get_or_create(slug=slug, defaults={"name": name})
        posts = {}
        for index, kind, title, body, tags, hours in POSTS:
            post = Post.objects.filter(title=title).first() or services.post_create(
                author=users[index], kind=kind, title=title, body=body, tag_slugs=tags
            )
            Post.objects.filter(pk=post.pk).update(created=timezone.now() - timedelta(hours=hours))
            posts[title] = post
        for title, voters in VOTES.items():
            for voter in voters:
                if not posts[title].votes.filter(user=users[voter]).exists():
                    services.vote_toggle(post=posts[title], user=users[voter])
        services.post_status_set(post=posts["Add a USDC lending market"], by=admin, status="planned",
                                 note="Scheduled right after the audit of the new market contract.")
        services.post_status_set(post=posts["Dark mode for the dashboard"], by=admin, status="in_progress",
                                 note="Design is done; the portal already follows your system setting.")
        services.post_status_set(post=posts["Repay button keeps spinning on mobile"], by=admin, status="done",
                                 note="Fixed in release 1.4: the page now listens for the confirmation event.")
        services.post_status_set(post=posts["Email alerts before liquidation"], by=admin, status="under_review",
                                 note="We are checking which notification providers respect privacy.")
        services.post_merge(source=posts["A stablecoin market please"], target=posts["Add a USDC lending market"],
                            by=admin)
        question = posts["Where do I see the interest I earned?"]
        support.question_claim(post=question, by=admin)
        support.question_answer(post=question, by=admin,
                                 body="Open **Positions** and expand a market: *Earned* shows the interest so far.")
        support.question_accept(post=question, by=users[3])
    try:
        services.post_promote(post=posts["Delegate votes by category"], by=admin)
        stdout.write("  promoted “Delegate votes by category” to a draft proposal\n")
    except Exception as error:  # noqa: BLE001 — the rest of the demo stands without it (e.g. no chain yet)
        stdout.write(f"  could not promote an idea to a proposal: {error}\n")
    stdout.write(f"Feedback: {len(POSTS)} demo posts, tags, votes, statuses, a merge and an answered question.\n")
