"""User text: markdown-it-py renders (raw HTML off), nh3 sanitises (allow-list), so output is safe to mark safe."""

from urllib.parse import urlsplit

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# Images only from hosts we trust not to track readers; links only http(s) and mailto.
ALLOWED_IMAGE_HOSTS = {"i.imgur.com", "raw.githubusercontent.com", "user-images.githubusercontent.com"}
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "img", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}

# Comments keep the HTML this renderer made (Comment.html, Comment.html_version). Bump when the output changes
# (allow-list, plugins, markdown-it-py's rules): the next `migrate` re-renders every stored comment, and until then a
# comment with an older version is rendered when read.
RENDERER_VERSION = 1

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough"
)


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        parts = urlsplit(value)
        return value if parts.scheme == "https" and parts.hostname in ALLOWED_IMAGE_HOSTS else None
    return value


def render_markdown(text: str) -> SafeString:
    """Render user markdown to HTML that is safe to insert into a page."""
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
        attribute_filter=_keep_attribute,
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 — nh3 output is sanitised by construction
