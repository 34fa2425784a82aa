"""User text: markdown-it-py renders (raw HTML off), nh3 sanitises (allow-list), so output is safe to mark safe."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
RENDERER_VERSION = 3  # 2: @0x… mentions link to the address's profile; 3: so do @Name mentions of a known person

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough"
)


# "@0x…" with a whole address, or "@Name" (letters, digits and . _ -, not ending in . or -), not inside a word, a path
# or a longer hex string; only in plain text, never inside code or a link.
MENTION_ADDRESS = re.compile(r"(?<![\w/@])@(0x[0-9a-fA-F]{40})(?![0-9a-zA-Z_])")
MENTION_NAME = re.compile(r"(?<![\w/@])@([A-Za-z][A-Za-z0-9_.\-]{1,39})(?<![.\-])")
_MENTION = re.compile(rf"{MENTION_ADDRESS.pattern}|{MENTION_NAME.pattern}")


@dataclass(frozen=True)
class Mentions:
    """What a text @mentions where a reader sees plain text: whole addresses as written, and names in lower case
    (a name starting with 0x is a broken address, never a name); each once, in order of first mention."""

    addresses: list[str]
    names: list[str]


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _plain_texts(tokens: list[Token]):
    """Each inline block and, per child, whether it is a text token outside any link (code is its own token type)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        in_link = 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            yield block, token, token.type == "text" and not in_link


def mentions_in(text: str) -> Mentions:
    """The @mentions of markdown `text`, found where render_markdown would link them."""
    addresses, names = {}, {}
    for _, token, plain in _plain_texts(_md.parse(text or "", {"mentions_unlinked": True})):
        if plain and "@" in token.content:
            for match in _MENTION.finditer(token.content):
                if match.group(1):
                    addresses.setdefault(match.group(1), None)
                elif not match.group(2).lower().startswith("0x"):
                    names.setdefault(match.group(2).lower(), None)
    return Mentions(addresses=list(addresses), names=list(names))


def _mention_link(href: str, shown: str) -> list[Token]:
    link = Token("link_open", "a", 1)
    link.attrs = {"href": href}
    return [link, _text(shown), Token("link_close", "a", -1)]


def _mention_links(state) -> None:
    """A core rule: each @0x… address in plain text becomes a link to its profile (/u/<address>/, which redirects
    to the checksummed spelling), shown as @0x1234…abcd; each @Name found in env["mention_names"] (lower-case name
    -> address) a link to that person's profile, shown as written. Any other @Name stays text."""
    if state.env.get("mentions_unlinked"):  # mentions_in reads the mentions as written
        return
    names = state.env.get("mention_names") or {}
    rebuilt: dict[int, list[Token]] = {}
    for block, token, plain in _plain_texts(state.tokens):
        children = rebuilt.setdefault(id(block), [])
        if not plain or "@" not in token.content:
            children.append(token)
            continue
        position = 0
        for match in _MENTION.finditer(token.content):
            address, name = match.group(1), match.group(2)
            if address:
                address = address.lower()
                link = _mention_link(f"/u/{address}/", f"@{address[:6]}…{address[-4:]}")
            elif name.lower() in names:
                link = _mention_link(f"/u/{names[name.lower()]}/", f"@{name}")
            else:
                continue
            if match.start() > position:
                children.append(_text(token.content[position : match.start()]))
            children += link
            position = match.end()
        if position < len(token.content):
            children.append(_text(token.content[position:]))
    for block in state.tokens:
        if id(block) in rebuilt:
            block.children = rebuilt[id(block)]


_md.core.ruler.push("mention_links", _mention_links)


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        parts = urlsplit(value)
        return value if parts.scheme == "https" and parts.hostname in ALLOWED_IMAGE_HOSTS else None
    return value


def render_markdown(text: str, *, mention_names: Mapping[str, str] | None = None) -> SafeString:
    """Render user markdown to HTML that is safe to insert into a page. `mention_names` (lower-case display name ->
    checksummed address) turns those @Name mentions into profile links; the caller resolves them (the renderer reads
    no database)."""
    html = _md.render(text or "", {"mention_names": dict(mention_names or {})})
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
