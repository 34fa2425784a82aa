from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone

from governance.models import Category, QuorumKind, RiskParameterChange
from governance.voting import VotingType


class ProposalForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown. Say what should change, why, and how to tell it worked.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    voting_type = forms.ChoiceField(choices=VotingType.choices)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line (2–10). Ignored for basic voting, which is always For, Against, Abstain.",
    )
    start = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="UTC. Voting opens then, or when you open it if that is later.",
    )
    end = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), help_text="UTC."
    )
    quorum_kind = forms.ChoiceField(choices=QuorumKind.choices, label="Quorum as")
    quorum_value = forms.DecimalField(
        min_value=0, max_digits=40, decimal_places=18, label="Quorum", initial=0,
        help_text="Tokens, or a percent of the total supply at the snapshot block.",
    )

    change_parameter = forms.ChoiceField(
        required=False, label="Parameter",
        choices=[("", "No parameter change"), *RiskParameterChange.Parameter.choices],
        help_text="Risk proposals only. The page then shows which loans the change would make liquidatable.",
    )
    change_asset = forms.CharField(
        required=False, max_length=42, label="Collateral", widget=forms.TextInput(attrs={"list": "collaterals"}),
        help_text="The collateral's symbol (WETH) or token address.",
    )
    change_value = forms.DecimalField(
        required=False, max_digits=12, decimal_places=4, label="New value (%)",
        help_text="In percent: 78 for a 78 % liquidation threshold or LTV; -30 for a price shock of a 30 % fall.",
    )

    @classmethod
    def initial_for_new(cls) -> dict:
        now = timezone.now().replace(second=0, microsecond=0)
        return {"start": now, "end": now + timedelta(days=5), "voting_type": VotingType.BASIC, "quorum_kind": QuorumKind.AMOUNT}

    @classmethod
    def initial_for(cls, proposal) -> dict:
        return {
            "title": proposal.title, "body": proposal.body, "category": proposal.category,
            "voting_type": proposal.voting_type,
            "choices": "\n".join(proposal.choices) if proposal.voting_type != VotingType.BASIC else "",
            "start": proposal.start, "end": proposal.end, "quorum_kind": proposal.quorum_kind,
            "quorum_value": proposal.quorum_value, **cls._change_initial(proposal),
        }

    @staticmethod
    def _change_initial(proposal) -> dict:
        row = RiskParameterChange.objects.filter(proposal=proposal).first()
        if row is None:
            return {}
        return {"change_parameter": row.parameter, "change_asset": row.symbol,
                "change_value": (row.new_amount * 100).normalize()}

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"], "body": data["body"], "category": data["category"],
            "voting_type": data["voting_type"],
            "choices": [line.strip() for line in data["choices"].splitlines() if line.strip()],
            "start": data["start"], "end": data["end"], "quorum_kind": data["quorum_kind"],
            "quorum_value": format(data["quorum_value"].normalize(), "f"),
            "risk_change": self._risk_change(),
        }

    def _risk_change(self) -> dict | None:
        """The change as the service takes it (the value as a fraction), or None when the three fields are empty."""
        data = self.cleaned_data
        value = data.get("change_value")
        if not (data.get("change_parameter") or data.get("change_asset") or value is not None):
            return None
        return {"parameter": data.get("change_parameter") or "", "asset": data.get("change_asset") or "",
                "value": "" if value is None else format((value / Decimal(100)).normalize(), "f")}
