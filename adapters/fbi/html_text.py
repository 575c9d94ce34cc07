"""The FBI's poster prose (HTML fragments or plain text) as plain text, with its poster links.

The caution, details and remarks of a poster are HTML fragments written in a content editor:
paragraphs, line breaks, entities, non-breaking and zero-width spaces, links to other posters.
libxml2's HTML parser (through lxml) reads them: it recovers from any markup in linear time,
where the standard library's parser is quadratic on unclosed tags, and it never fetches
anything. Recipients get the text, one paragraph a line, and the links that point at other
FBI posters (a parent wanted for abducting the child on this one), as related entities.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from lxml import etree

_BLOCKS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HIDDEN = frozenset({"script", "style"})
# Characters XML (and so libxml2) refuses, which carry nothing readable anyway.
_UNREADABLE = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_INVISIBLE = str.maketrans({"\u200b": None, "\ufeff": None, "\u00a0": " "})
_MARKUP = re.compile(r"<[A-Za-z/!?]")
_SPACES = re.compile(r"[^\S\n]+")
_POSTER_LINK = re.compile(r"https?://(?:www\.)?fbi\.gov/wanted/[^?#\s]+")


@dataclass(frozen=True)
class Prose:
    text: str
    """Paragraphs one a line, runs of spaces collapsed; '' when there is no text at all."""
    links: tuple[tuple[str, str], ...]
    """(text, href) of each link to an FBI poster, in order, repeats dropped."""


def prose(raw: str) -> Prose:
    """The text of an HTML fragment, or of plain text, whose own line breaks are kept.

    Raises ValueError when libxml2 gives up on the markup (nesting deeper than 256 elements),
    rather than hand on the part it read as if it were the whole.
    """
    raw = raw.translate(_UNREADABLE)
    if not _MARKUP.search(raw):
        return Prose(text=_tidy(html.unescape(raw)), links=())
    parser = etree.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
    )
    root = etree.fromstring(raw.encode("utf-8"), parser)
    fatal = [error.message for error in parser.error_log if error.level_name == "FATAL"]
    if fatal:
        raise ValueError(f"unreadable HTML: {fatal[0]}")
    if root is None:  # nothing but markup that holds no element
        return Prose(text="", links=())
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCKS:
            parts.append("\n")
        if event == "start" and tag not in _HIDDEN:
            parts.append(_flat(element.text))
        elif event == "end":
            if tag == "a" and _POSTER_LINK.fullmatch(href := (element.get("href") or "").strip()):
                links.append((" ".join("".join(element.itertext()).split()) or href, href))
            parts.append(_flat(element.tail))
    return Prose(text=_tidy("".join(parts)), links=tuple(dict.fromkeys(links)))


def _flat(text: str | None) -> str:
    """In HTML a line break in the source is only a space: lines come from the block tags."""
    return "" if text is None else " ".join(text.splitlines())


def _tidy(text: str) -> str:
    lines = text.translate(_INVISIBLE).splitlines()
    return "\n".join(line for line in (_SPACES.sub(" ", line).strip() for line in lines) if line)
