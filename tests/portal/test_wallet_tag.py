"""`{% wallet %}`: the markup every author and voter is shown with, built directly (a page shows hundreds)."""

from decimal import Decimal

import pytest
from django.template import engines

from governance import tiers
from governance.tiers import Standing, Tier, standings_batch

ADDRESS = "0x1234567890AbcdEF1234567890aBcdef12345678"


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def known_tier(address: str, tier: Tier | None) -> None:
    """What the page's batch lookup found for `address` (as standings_prefetch leaves it)."""
    tiers._page_standings.get()[tiers._key_address(address)] = Standing(address, Decimal(500), tier, None)


def test_an_address_links_to_its_profile_shortened():
    with standings_batch():
        known_tier(ADDRESS, None)
        html = render("{% wallet who %}", who=ADDRESS)
    assert html == (f'<a class="wallet wallet--link" href="/u/{ADDRESS}/" title="{ADDRESS}">'
                    '<code class="wallet__address">0x1234…5678</code></a>')


def test_a_name_is_escaped_and_the_tier_badge_follows():
    with standings_batch():
        known_tier(ADDRESS, Tier(slug="gold", name="Gold", rank=3))
        html = render('{% wallet who name=name %}', who=ADDRESS, name='<img src=x onerror="alert(1)">')
    assert html == (f'<a class="wallet wallet--link" href="/u/{ADDRESS}/" title="{ADDRESS}">'
                    '<span class="wallet__name">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</span> '
                    '<span class="tier tier--gold" title="Gold loyalty tier">Gold</span></a>')


def test_without_a_link_and_without_an_address():
    with standings_batch():
        known_tier(ADDRESS, None)
        assert render("{% wallet who link=False %}", who=ADDRESS) == (
            f'<span class="wallet" title="{ADDRESS}"><code class="wallet__address">0x1234…5678</code></span>')

        class Nobody:  # a user without a wallet (a deleted account, a staff login)
            primary_address = None
            display_name = "Former member"

        assert render("{% wallet who %}", who=Nobody()) == (
            '<span class="wallet" title=""><span class="wallet__name">Former member</span></span>')


@pytest.mark.parametrize("address", ['0x" onmouseover="x', "0x<script>"])
def test_a_hostile_address_string_stays_text(address):
    with standings_batch():
        known_tier(address, None)
        html = render("{% wallet who %}", who=address)
    assert "<script>" not in html and '" onmouseover' not in html
