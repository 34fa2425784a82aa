"""User text: markdown-it-py renders (raw HTML off), nh3 sanitises (allow-list), so output is safe to mark safe."""

import re
from urllib.parse import urlsplit

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

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
RENDERER_VERSION = 2  # 2: @0x… mentions link to the address's profile

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough"
)


# "@0x…" with a whole address, not inside a word, a path or a longer hex string; never inside code or a link.
MENTION_ADDRESS = re.compile(r"(?<![\w/@])@(0x[0-9a-fA-F]{40})(?![0-9a-zA-Z_])")


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _mention_links(state) -> None:
    """A core rule: each @0x… address in plain text becomes a link to its profile (/u/<address>/, which redirects
    to the checksummed spelling), shown as @0x1234…abcd."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or in_link or "@0x" not in token.content:
                children.append(token)
                continue
            position = 0
            for match in MENTION_ADDRESS.finditer(token.content):
                if match.start() > position:
                    children.append(_text(token.content[position : match.start()]))
                address = match.group(1).lower()
                link = Token("link_open", "a", 1)
                link.attrs = {"href": f"/u/{address}/"}
                children += [link, _text(f"@{address[:6]}…{address[-4:]}"), Token("link_close", "a", -1)]
                position = match.end()
            if position < len(token.content):
                children.append(_text(token.content[position:]))
        block.children = children


_md.core.ruler.push("mention_links", _mention_links)


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
