"""The names the rest of the portal uses for voting: the seven voting types and the three outcomes.

The values are what the database stores and what CONTRACT publishes (`voting_type`, `outcome`); the labels are what
people read. Both are TextChoices so models, forms and templates take them as they are.
"""

from __future__ import annotations

from django.db.models import TextChoices


class VotingType(TextChoices):
    BASIC = "basic", "Basic (For, Against, Abstain)"
    SINGLE_CHOICE = "single-choice", "Single choice"
    APPROVAL = "approval", "Approval"
    WEIGHTED = "weighted", "Weighted"
    QUADRATIC = "quadratic", "Quadratic"
    RANKED_CHOICE = "ranked-choice", "Ranked choice (instant run-off)"
    COPELAND = "copeland", "Copeland (ranked pairwise)"


class Outcome(TextChoices):
    PASSED = "passed", "Passed"
    REJECTED = "rejected", "Rejected"
    QUORUM_NOT_MET = "quorum_not_met", "Quorum not met"


# A basic proposal's choices, numbered 1, 2, 3 in the signed ballot.
BASIC_CHOICES = ("For", "Against", "Abstain")

# Significant digits of the running sums: token amounts have 18 decimals and up to ~30 digits in all, so sums of
# weights stay exact and a quotient keeps far more digits than the wei the scores are rounded to.
PRECISION = 60
