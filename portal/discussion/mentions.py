"""@mentions in a comment: `@0x…` (a whole address) or `@Name` (a display name held by exactly one account, letters,
digits and . _ - only). Both notify the person and render as a link to their profile; an unknown or ambiguous name
stays plain text and tells nobody. What counts as a mention is portal.markdown's: plain text, never code or a link."""

from __future__ import annotations

from functools import reduce
from operator import or_

from allauth.socialaccount.models import SocialAccount
from django.db.models import Q
from eth_utils import to_checksum_address

from portal.accounts.models import User
from portal.markdown import mentions_in, render_markdown

MAX_MENTIONS = 10  # people told (and names linked) per comment; more is a broadcast, not a mention


def name_holders(names: list[str]) -> dict[str, User]:
    """Lower-case display name -> the one account holding it (case-insensitively); a name two accounts share is left
    out. One query, none for no names."""
    if not names:
        return {}
    holders: dict[str, list[User]] = {}
    for user in User.objects.filter(reduce(or_, (Q(display_name__iexact=name) for name in names))):
        holders.setdefault(user.display_name.lower(), []).append(user)
    return {name: users[0] for name, users in holders.items() if len(users) == 1}


def mentioned_users(body: str) -> list[User]:
    """The accounts `body` mentions, in order of first mention, at most MAX_MENTIONS (two queries at most)."""
    found = mentions_in(body)
    addresses = list(dict.fromkeys(to_checksum_address(a.lower()) for a in found.addresses))
    users: list[User] = []
    if addresses:
        wallets = SocialAccount.objects.filter(provider="siwe", uid__in=addresses[:MAX_MENTIONS]).select_related("user")
        by_address = {wallet.uid: wallet.user for wallet in wallets}
        users += [by_address[a] for a in addresses if a in by_address]
    holders = name_holders(found.names[:MAX_MENTIONS])
    users += [holders[name] for name in found.names if name in holders]
    return list({user.pk: user for user in users}.values())[:MAX_MENTIONS]


def comment_html_many(bodies: list[str]) -> list[str]:
    """The stored HTML of each comment body: sanitised markdown whose @Name mentions of a known person link to their
    profile. One query for the names of all of them (none when no body mentions a name)."""
    wanted = [mentions_in(body).names[:MAX_MENTIONS] if body else [] for body in bodies]
    holders = name_holders(list(dict.fromkeys(name for names in wanted for name in names)))
    linked = {name: user.primary_address for name, user in holders.items() if user.primary_address}
    return [
        str(render_markdown(body, mention_names={n: linked[n] for n in names if n in linked})) if body else ""
        for body, names in zip(bodies, wanted, strict=True)
    ]


def comment_html(body: str) -> str:
    """comment_html_many for one body."""
    return comment_html_many([body])[0]
