"""The loan card as a fragment, and its push to the owner's sockets when a reading moves."""

from __future__ import annotations

from django.template.loader import render_to_string

from portal.live import broadcast


def loan_group(address: str) -> str:
    return f"lending.{address.lower()}"


def loan_fragment(*, loans: list, error: str = "", oob: bool = False) -> str:
    return render_to_string("lending/_loan.html", {"loans": loans, "error": error, "oob": oob})


def loan_broadcast(*, loan) -> None:
    """After commit, the wallet's loan card (an out-of-band swap) to everyone watching that wallet."""
    broadcast(loan_group(loan.address), lambda: {
        "type": "loan.changed",
        "html": render_to_string("lending/_loan_item.html", {"loan": loan, "oob": True}),
    })
