"""`/status/history.atom`: incidents and maintenance, newest first, each with its timeline."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from portal.conf import portal_settings
from portal.markdown import render_markdown

from .models import Component, Incident


class IncidentFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return f"{portal_settings().site_name} status history"

    def link(self):
        return reverse("health:index")

    def subtitle(self):
        return "Incidents and scheduled maintenance of the portal and the lending pool."

    def items(self):
        return Incident.objects.filter(draft=False).prefetch_related("updates", "components").order_by("-updated_at")[:50]

    def item_title(self, item: Incident):
        return f"{item.name} ({item.status.replace('_', ' ')})"

    def item_link(self, item: Incident):
        return reverse("health:incident", args=[item.code])

    def item_guid(self, item: Incident):
        return f"incident-{item.code}"

    def item_pubdate(self, item: Incident):
        return item.created_at

    def item_updateddate(self, item: Incident):
        return item.updated_at

    def item_description(self, item: Incident):
        parts = []
        for update in item.updates.all():
            when = update.display_at.strftime("%d %b %Y %H:%M UTC")
            status = escape(update.status.replace("_", " ").capitalize())
            # Update bodies are markdown, rendered as on the incident page.
            parts.append(f"<p><strong>{status}</strong> · {when}</p>{render_markdown(update.body)}")
        if components := list(item.components.all()):
            parts.append("<p>Affected: " + escape(", ".join(c.name for c in components)) + "</p>")
        return "".join(parts)


class ComponentIncidentFeed(IncidentFeed):
    """`/status/components/<slug>/history.atom`: the incidents and maintenance that touched one component."""

    def get_object(self, request, slug: str):
        return get_object_or_404(Component, slug=slug)

    def title(self, obj: Component):
        return f"{portal_settings().site_name} status history: {obj.name}"

    def link(self, obj: Component):
        return reverse("health:component", args=[obj.slug])

    def subtitle(self, obj: Component):
        return f"Incidents and scheduled maintenance affecting {obj.name}."

    def items(self, obj: Component):
        return (Incident.objects.filter(draft=False, components=obj).prefetch_related("updates", "components")
                .order_by("-updated_at")[:50])
