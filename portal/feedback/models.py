"""Feedback board: posts (ideas, bug reports, support questions), their votes, tags and status history."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Kind(models.TextChoices):
    IDEA = "idea", "Idea"
    BUG = "bug", "Bug report"
    QUESTION = "question", "Support question"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    UNDER_REVIEW = "under_review", "Under review"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DECLINED = "declined", "Declined"
    DUPLICATE = "duplicate", "Duplicate"


ROADMAP_STATUSES = (Status.PLANNED, Status.IN_PROGRESS, Status.DONE)
TITLE_MAX_LENGTH = 150
BODY_MAX_LENGTH = 10_000
NOTE_MAX_LENGTH = 2_000


class Tag(models.Model):
    """Staff-managed labels (admin only)."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IDEA)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_posts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    status_note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    vote_count = models.PositiveIntegerField(default=0)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    thread = models.ForeignKey(
        "discussion.Thread", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_posts"
    )
    # The proposal an idea was promoted to (governance.Proposal.number; kept loose so apps migrate independently).
    proposal_number = models.PositiveIntegerField(null=True, blank=True)
    # Support queue
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(max_length=BODY_MAX_LENGTH, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["kind", "status"]), models.Index(fields=["-vote_count", "-created"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("feedback:post", args=[self.pk])

    @property
    def in_queue(self) -> bool:
        return self.kind == Kind.QUESTION and self.solved_at is None and self.status not in (
            Status.DUPLICATE, Status.DECLINED
        )

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_response_at is None:
            return None
        return (self.first_response_at - self.created).total_seconds()


class Vote(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_votes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="feedback_vote_once_per_account")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.post_id}"


class StatusChange(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    note = models.TextField(max_length=NOTE_MAX_LENGTH)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.from_status} → {self.to_status}"
