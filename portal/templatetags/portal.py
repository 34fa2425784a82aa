"""Template helpers loaded everywhere (see TEMPLATES builtins): addresses, tier badges, markdown."""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html

from governance.strategies import Strategy
from governance.tiers import loyalty_standing as standing_of
from governance.tiers import loyalty_tier
from portal.markdown import render_markdown

register = template.Library()


@register.filter
def short_address(address: str | None) -> str:
    """0x1234…abcd, the way wallets show an address."""
    if not address or len(address) < 12:
        return address or ""
    return f"{address[:6]}…{address[-4:]}"


@register.simple_tag(takes_context=True)
def page_query(context, number: int) -> str:
    """This page's query string with `page` set to `number` (the other filters kept)."""
    query = context["request"].GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()


@register.filter
def strategy_words(strategy: dict) -> str:
    """A proposal's stored strategy (its JSON form) in plain words; the raw kind if it no longer parses."""
    try:
        return Strategy.from_json(strategy).plain_words
    except ValueError:
        return str(strategy.get("kind", "")) if isinstance(strategy, dict) else ""


@register.filter
def markdown(text: str):
    return render_markdown(text)


@lru_cache(maxsize=4096)
def _profile_path(prefix: str, urlconf, address: str) -> str:
    """A profile's path (reverse() costs more than the rest of a wallet; a page can show hundreds of them). The
    script prefix and URLconf are arguments only to key the cache: a path is kept per both."""
    return reverse("people:profile", args=[address])


@register.simple_tag
def wallet(who, *, link: bool = True, name: str | None = None):
    """An author/voter as people see them: display name or short address, and their loyalty-tier badge; a link to
    their profile unless `link=False` (inside another link or a form).

    `who` is a User or an address string (with `name`, the display name when the caller knows it). Built with
    format_html rather than an included template: a page of voters or comments shows dozens of them.
    """
    if isinstance(who, str):
        address = who
    else:
        address = getattr(who, "primary_address", None)
        name = getattr(who, "display_name", "") or None
    tier = loyalty_tier(address) if address else None
    label = (format_html('<span class="wallet__name">{}</span>', name) if name
             else format_html('<code class="wallet__address">{}</code>', short_address(address)))
    badge = format_html(" {}", tier_badge(tier)) if tier else ""
    if link and address:
        return format_html('<a class="wallet wallet--link" href="{}" title="{}">{}{}</a>',
                           _profile_path(get_script_prefix(), get_urlconf(), address), address, label, badge)
    return format_html('<span class="wallet" title="{}">{}{}</span>', address or "", label, badge)


@register.simple_tag
def tier_badge(tier):
    if tier is None:
        return ""
    return format_html('<span class="tier tier--{}" title="{} loyalty tier">{}</span>', tier.slug, tier.name, tier.name)


@register.inclusion_tag("governance/_weight.html")
def loyalty_standing(user):
    """The signed-in wallet's current voting weight, tier and the next tier (cached briefly)."""
    address = getattr(user, "primary_address", None)
    return {"standing": standing_of(address) if address else None}
