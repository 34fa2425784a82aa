"""Notifications: the in-app row per recipient and event; each user's preferences per kind and channel; the mail
outbox (one row per message, its key making every send idempotent), the addresses that bounced for good, and the
entries waiting for a digest."""

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
    PROPOSAL_OPENED = "proposal_opened", "New proposals open for voting"
    PROPOSAL_CLOSING = "proposal_closing", "Voting on a proposal closes within 24 hours"
    MENTION = "mention", "Someone mentions me"


SHORT_LABELS = {
    Verb.COMMENT_REPLY: "Reply",
    Verb.POST_STATUS: "Feedback",
    Verb.QUESTION_ANSWERED: "Support",
    Verb.PROPOSAL_CLOSED: "Proposal",
    Verb.INCIDENT_UPDATE: "Incident",
    Verb.LOAN_RISK: "Loan",
    Verb.LIQUIDATED: "Liquidation",
    Verb.COMMENT_HIDDEN: "Moderation",
    Verb.PROPOSAL_OPENED: "Proposal",
    Verb.PROPOSAL_CLOSING: "Proposal",
    Verb.MENTION: "Mention",
}


class Kind(models.TextChoices):
    """What a person chooses channels for; each kind gathers one or more verbs."""

    PROPOSAL_NEW = "proposal_new", "A new proposal opens for voting"
    PROPOSAL_CLOSING = "proposal_closing", "Voting closes within 24 hours (proposals I have not voted on)"
    PROPOSAL_RESULT = "proposal_result", "The result of a proposal I voted on"
    REPLIES = "replies", "Replies to me and @mentions of me"
    FEEDBACK = "feedback", "Status changes and answers on my feedback"
    INCIDENTS = "incidents", "Incidents and maintenance on the status page"
    LOANS = "loans", "Alerts about my loan"
    MODERATION = "moderation", "Moderators acting on my comments"


KIND_OF_VERB = {
    Verb.PROPOSAL_OPENED: Kind.PROPOSAL_NEW,
    Verb.PROPOSAL_CLOSING: Kind.PROPOSAL_CLOSING,
    Verb.PROPOSAL_CLOSED: Kind.PROPOSAL_RESULT,
    Verb.COMMENT_REPLY: Kind.REPLIES,
    Verb.MENTION: Kind.REPLIES,
    Verb.POST_STATUS: Kind.FEEDBACK,
    Verb.QUESTION_ANSWERED: Kind.FEEDBACK,
    Verb.INCIDENT_UPDATE: Kind.INCIDENTS,
    Verb.LOAN_RISK: Kind.LOANS,
    Verb.LIQUIDATED: Kind.LOANS,
    Verb.COMMENT_HIDDEN: Kind.MODERATION,
}


class Cadence(models.TextChoices):
    """How e-mail of a kind reaches a person."""

    OFF = "off", "No e-mail"
    NOW = "now", "E-mail at once"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"


# (in-app, e-mail) for someone who never chose: urgent things at once, the rest in a digest, nothing unasked-for.
DEFAULTS: dict[str, tuple[bool, str]] = {
    Kind.PROPOSAL_NEW: (True, Cadence.WEEKLY),
    Kind.PROPOSAL_CLOSING: (True, Cadence.OFF),
    Kind.PROPOSAL_RESULT: (True, Cadence.DAILY),
    Kind.REPLIES: (True, Cadence.DAILY),
    Kind.FEEDBACK: (True, Cadence.DAILY),
    Kind.INCIDENTS: (True, Cadence.OFF),
    Kind.LOANS: (True, Cadence.NOW),
    Kind.MODERATION: (True, Cadence.NOW),
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


class Preference(models.Model):
    """One person's channels for one kind; a kind without a row has its DEFAULTS."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    in_app = models.BooleanField(default=True)
    email = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.OFF)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notifications_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: in-app {self.in_app}, e-mail {self.email}"


class Mail(models.Model):
    """One message to one address. `key` is its identity (`status:<update>:<subscriber>`, `digest:daily:…`): the
    same event never makes a second row, and a retried send finds the row already sent. A worker claims a row
    (`sending`) before talking to the server; the retry after a dead worker sends it again with the same
    Message-ID."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Not sent: the address bounced"

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key} → {self.to} ({self.state})"


class Suppression(models.Model):
    """An address that answered with a permanent failure (SMTP 5xx): nothing more is sent to it until it is
    verified again."""

    email = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=300)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.email}: {self.reason}"


class DigestEntry(models.Model):
    """Something that happened, waiting for the recipient's next digest. `period` is set when a digest took it
    (`daily:2026-12-02`), so no entry is told twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cadence = models.CharField(max_length=8, choices=Cadence.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now)
    period = models.CharField(max_length=24, blank=True)
    key = models.CharField(max_length=200, blank=True, default="")  # the event, as Notification.key

    class Meta:
        indexes = [models.Index(fields=["cadence", "period", "user"])]
        constraints = [models.UniqueConstraint(fields=["user", "key"], condition=~models.Q(key=""),
                                               name="notifications_digest_once_per_key")]


class DigestRun(models.Model):
    """A digest period that was built (`daily:2026-12-02`), so the sampler builds each one once."""

    period = models.CharField(max_length=24, unique=True)
    started = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    mails = models.PositiveIntegerField(default=0)


class CaughtMail(models.Model):
    """A message the development backend kept instead of sending (EMAIL_URL unset); /dev/mail/ shows them."""

    to = models.CharField(max_length=1000)
    subject = models.CharField(max_length=300)
    message = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
