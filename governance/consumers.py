"""`/ws/proposals/{number}/`: the live tally and voter list as htmx out-of-band fragments. Read-only for everyone."""

from __future__ import annotations

from typing import TypedDict

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.template.loader import render_to_string


class TallyEvent(TypedDict):
    type: str  # "tally.update" → ProposalConsumer.tally_update
    html: str


def proposal_group(number: int) -> str:
    return f"governance.proposal.{number}"


class ProposalConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = proposal_group(int(self.scope["url_route"]["kwargs"]["number"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Votes are signed and posted over HTTP; nothing a socket sends is acted on.
        return

    async def tally_update(self, event: TallyEvent):
        await self.send(text_data=event["html"])


def live_fragments(*, number: int) -> str:
    """The tally and voter list of LIP-`number` as OOB fragments (the same partials the page renders)."""
    from governance.views import proposal_context

    from governance.selectors import proposal_get

    context = proposal_context(proposal=proposal_get(number=number), request=None)
    context["oob"] = True
    return render_to_string("governance/detail.html#tally", context) + render_to_string(
        "governance/detail.html#voters", context
    )


def tally_broadcast(*, number: int) -> None:
    """Send the current tally to everyone watching the proposal (call only after commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    event: TallyEvent = {"type": "tally.update", "html": live_fragments(number=number)}
    async_to_sync(layer.group_send)(proposal_group(number), event)
