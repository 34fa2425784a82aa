"""Atom feeds of the board: everything, or one tag."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from portal.markdown import render_markdown

from .models import Post, Status, Tag


class BoardFeed(Feed):
    feed_type = Atom1Feed
    title = "Feedback board"
    subtitle = "New ideas, bug reports and support questions from the community."

    def link(self):
        return reverse("feedback:index")

    def items(self):
        return Post.objects.exclude(status=Status.DUPLICATE).select_related("author").order_by("-created")[:50]

    def item_title(self, item: Post) -> str:
        return f"[{item.get_kind_display()}] {item.title}"

    def item_description(self, item: Post) -> str:
        return render_markdown(item.body)

    def item_author_name(self, item: Post) -> str:
        return str(item.author)

    def item_pubdate(self, item: Post):
        return item.created

    def item_categories(self, item: Post):
        return [t.name for t in item.tags.all()]


class TagFeed(BoardFeed):
    def get_object(self, request, slug: str):
        return get_object_or_404(Tag, slug=slug)

    def title(self, tag: Tag) -> str:
        return f"Feedback board: {tag.name}"

    def link(self, tag: Tag) -> str:
        return f"{reverse('feedback:index')}?tag={tag.slug}"

    def items(self, tag: Tag):
        posts = Post.objects.filter(tags=tag).exclude(status=Status.DUPLICATE).select_related("author")
        return posts.order_by("-created")[:50]
