"""@mentions in a comment: `@0x…` (a whole address; rendered as a link by portal.markdown) or `@Name` (a display
name held by exactly one account, letters, digits and . _ - only). Text in code is not scanned."""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from allauth.socialaccount.models import SocialAccount
from django.db.models import Q
from eth_utils import to_checksum_address

from portal.accounts.models import User
from portal.markdown import MENTION_ADDRESS

MAX_MENTIONS = 10  # people told per comment; more is a broadcast, not a mention
MENTION_NAME = re.compile(r"(?<![\w/@])@([A-Za-z][A-Za-z0-9_.\-]{1,39})(?<![.\-])")
_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.DOTALL)


def mentioned_users(body: str) -> list[User]:
    """The accounts `body` mentions, in order of first mention, at most MAX_MENTIONS (two queries at most)."""
    text = _CODE.sub(" ", body or "")
    addresses = list(dict.fromkeys(to_checksum_address(m.lower()) for m in MENTION_ADDRESS.findall(text)))
    names = list(dict.fromkeys(name.lower() for name in MENTION_NAME.findall(text) if not name.lower().startswith("0x")))
    found: list[User] = []
    if addresses:
        wallets = SocialAccount.objects.filter(provider="siwe", uid__in=addresses[:MAX_MENTIONS]).select_related("user")
        by_address = {wallet.uid: wallet.user for wallet in wallets}
        found += [by_address[a] for a in addresses if a in by_address]
    if names:
        holders: dict[str, list[User]] = {}
        matches = User.objects.filter(reduce(or_, (Q(display_name__iexact=n) for n in names[:MAX_MENTIONS])))
        for user in matches:
            holders.setdefault(user.display_name.lower(), []).append(user)
        found += [holders[n][0] for n in names if len(holders.get(n, ())) == 1]  # an ambiguous name tells nobody
    return list({user.pk: user for user in found}.values())[:MAX_MENTIONS]
