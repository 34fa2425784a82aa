"""Discussion: categories, threads, comments (with edit history and +1 reactions), and the moderators' records.
Sanctions (silence, suspend) live in portal.accounts, which decides who may act."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from portal.markdown import RENDERER_VERSION, render_markdown

from .mentions import comment_html


class Category(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    staff_only = models.BooleanField(default=False, help_text="Only moderators may start threads here.")
    listed = models.BooleanField(default=True, help_text="Shown on the discussion index.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("discussion:category", args=[self.slug])


class Thread(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="threads")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=20000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    created = models.DateTimeField(default=timezone.now)
    last_activity = models.DateTimeField(default=timezone.now, db_index=True)
    locked = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    slow_mode_seconds = models.PositiveIntegerField(default=0, help_text="One comment per user per N seconds; 0 = off.")

    class Meta:
        ordering = ["-pinned", "-last_activity"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("discussion:thread", args=[self.pk])


class Comment(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments")
    # One level of nesting: `parent` is always a top-level comment; `quoted` is the comment actually replied to.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    quoted = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(max_length=10000)
    # `body` rendered and sanitised by portal.markdown at write time, so reading a page renders nothing.
    html = models.TextField(blank=True, default="", editable=False)
    html_version = models.PositiveSmallIntegerField(default=0, editable=False)
    created = models.DateTimeField(default=timezone.now)
    edited = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    deleted = models.DateTimeField(null=True, blank=True)
    plus_ones = models.PositiveIntegerField(default=0)
    # Any change a reader should see (edit, hide, delete, +1) moves this forward; reconnecting clients catch up by it.
    changed = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["thread", "id"]),
            # a thread page: its latest top-level comments (parent IS NULL), newest first
            models.Index(fields=["thread", "parent", "created"], name="discussion_thread_top_idx"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.thread_id}"

    def save(self, *args, update_fields=None, **kwargs):
        """Every write of `body` stores its rendering with it (whoever writes: services, moderation, the demo)."""
        if update_fields is None or "body" in update_fields:
            self.render_html()
            if update_fields is not None:
                update_fields = {*update_fields, "html", "html_version"}
        super().save(*args, update_fields=update_fields, **kwargs)

    def render_html(self) -> None:
        self.html = comment_html(self.body)
        self.html_version = RENDERER_VERSION

    @property
    def body_html(self) -> SafeString:
        """The sanitised HTML of the body: the stored rendering, or a fresh one while a renderer change has not been
        backfilled yet (a GET never writes; until `migrate` backfills it, @Name mentions show as plain text rather
        than cost a query per comment)."""
        if self.html_version != RENDERER_VERSION:
            return render_markdown(self.body) if self.body else mark_safe("")
        return mark_safe(self.html)  # noqa: S308 — written by render_markdown (nh3-sanitised) at save time

    @property
    def is_deleted(self) -> bool:
        return self.deleted is not None

    def get_absolute_url(self) -> str:
        return f"{reverse('discussion:thread', args=[self.thread_id])}#comment-{self.pk}"


class CommentRevision(models.Model):
    """The text a comment had before an edit; moderators read the history."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]


class Reaction(models.Model):
    """A "+1": one per user per comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="discussion_one_reaction_per_user")]


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        OFF_TOPIC = "off-topic", "Off-topic"
        ABUSIVE = "abusive", "Abusive"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        OPEN = "open", "Waiting for a moderator"
        AGREED = "agreed", "Agreed"
        DISAGREED = "disagreed", "Disagreed"

    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    text = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.OPEN, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(comment__isnull=False, thread__isnull=True) | Q(comment__isnull=True, thread__isnull=False),
                name="discussion_flag_one_target",
            ),
            models.UniqueConstraint(
                fields=["comment", "user"], condition=Q(comment__isnull=False), name="discussion_one_flag_per_comment"
            ),
            models.UniqueConstraint(
                fields=["thread", "user"], condition=Q(thread__isnull=False), name="discussion_one_flag_per_thread"
            ),
        ]


class ModerationAction(models.Model):
    """The moderation log. `public_summary` is the stub everyone sees; the rest is for moderators."""

    class Kind(models.TextChoices):
        HIDE = "hide", "Hid a comment"
        UNHIDE = "unhide", "Unhid a comment"
        AUTO_HIDE = "auto-hide", "Comment hidden after flags"
        DELETE = "delete", "Deleted a comment"
        AGREE = "agree", "Agreed with flags"
        DISAGREE = "disagree", "Disagreed with flags"
        LOCK = "lock", "Locked a thread"
        UNLOCK = "unlock", "Unlocked a thread"
        PIN = "pin", "Pinned a thread"
        UNPIN = "unpin", "Unpinned a thread"
        MOVE = "move", "Moved a thread"
        SLOW_MODE = "slow-mode", "Changed slow mode"
        SILENCE = "silence", "Silenced a wallet"
        SUSPEND = "suspend", "Suspended a wallet"
        LIFT = "lift", "Lifted a sanction"
        HIDE_THREAD = "hide-thread", "Hid a thread"
        UNHIDE_THREAD = "unhide-thread", "Unhid a thread"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
