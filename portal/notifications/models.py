"""In-app notifications: one row per recipient and event, plus the verbs each user has muted."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Verb(models.TextChoices):
    COMMENT_REPLY = "comment_reply", "Replies to my posts and comments"
    POST_STATUS = "post_status", "Status changes on feedback I wrote or voted on"
    QUESTION_ANSWERED = "question_answered", "Answers to my support questions"
    PROPOSAL_CLOSED = "proposal_closed", "Proposals I voted on closing"
    INCIDENT_UPDATE = "incident_update", "Updates on incidents I follow"
    LOAN_RISK = "loan_risk", "My loan's health factor crossing my alert levels"
    LIQUIDATED = "liquidated", "My loan being liquidated"
    COMMENT_HIDDEN = "comment_hidden", "Moderators hiding my comments"


SHORT_LABELS = {
    Verb.COMMENT_REPLY: "Reply",
    Verb.POST_STATUS: "Feedback",
    Verb.QUESTION_ANSWERED: "Support",
    Verb.PROPOSAL_CLOSED: "Proposal",
    Verb.INCIDENT_UPDATE: "Incident",
    Verb.LOAN_RISK: "Loan",
    Verb.LIQUIDATED: "Liquidation",
    Verb.COMMENT_HIDDEN: "Moderation",
}


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=40, choices=Verb.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The durable effect that delivered it (portal.effects): one notification per recipient and key, whatever re-ran.
    key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"]), models.Index(fields=["recipient", "-created"])]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], condition=~models.Q(key=""),
                                    name="notifications_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} for {self.recipient_id}: {self.text}"

    @property
    def kind_label(self) -> str:
        return SHORT_LABELS.get(self.verb, self.verb)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class MutedVerb(models.Model):
    """A verb the user does not want to hear about; absence means notify (the default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muted_verbs")
    verb = models.CharField(max_length=40, choices=Verb.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "verb"], name="notifications_muted_verb_once")]

    def __str__(self) -> str:
        return f"{self.user_id} mutes {self.verb}"
