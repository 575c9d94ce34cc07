"""CAP's value forms read off an ``XmlRecord``: text, instants, item lists, name/value pairs.

Text is repaired for one encoding fault common in alert feeds: a file declared ISO-8859-1 but
written in Windows-1252, whose curly quotes and dashes (bytes 0x80-0x9F) decode as C1 control
characters. Those controls never belong in an alert's text, so each becomes the Windows-1252
character it stands for.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from adapters.xml_reader import XmlRecord

_C1 = re.compile("[\x80-\x9f]")
_ITEM = re.compile(r'"([^"]*)"|([^\s"]+)')
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Pair:
    """A <valueName>/<value> pair (<eventCode>, <parameter>, <geocode>)."""

    name: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


def line(record: XmlRecord, name: str) -> str | None:
    """A one-line value: repaired, runs of white space (line breaks too) made one space."""
    return _line(record.text(name))


def lines(record: XmlRecord, name: str) -> list[str]:
    return [value for text in record.texts(name) if (value := _line(text))]


def block(record: XmlRecord, name: str) -> str | None:
    """Free text whose line breaks mean something (NWS bullets, paragraphs): each line is
    stripped of the indentation the XML was pretty-printed with, blank runs become one."""
    text = record.text(name)
    if text is None:
        return None
    stripped = "\n".join(" ".join(row.split()) for row in repair(text).splitlines())
    return _BLANK_LINES.sub("\n\n", stripped).strip() or None


def instant(record: XmlRecord, name: str) -> dt.datetime | None:
    """A CAP dateTime (``2002-05-24T16:49:00-07:00``); one without its UTC offset is a fault,
    since guessing the zone moves expiry by hours."""
    text = line(record, name)
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as err:
        raise _at(record, name).error(str(err)) from err


def parse_instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a CAP date and time (YYYY-MM-DDThh:mm:ss±hh:mm)"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (CAP requires one)")
    return value


def items(text: str | None) -> list[str]:
    """A CAP group listing: items separated by white space, quoted when they contain some."""
    if text is None:
        return []
    if text.count('"') % 2:
        raise ValueError(f"unbalanced double quote in {text!r}")
    found = (quoted or bare for quoted, bare in _ITEM.findall(text))
    return [" ".join(item.split()) for item in found if item.strip()]


def pairs(record: XmlRecord, name: str) -> list[Pair]:
    """Every <name> child as a pair; CAP 1.0 wrote them as text, ``valueName=value``.

    A pair without a value (NWS sends <value></value> placeholders) says nothing and is left
    out; one without a name cannot be read and is a fault.
    """
    found: list[Pair] = []
    for child in record.children(name):
        if child.element.find("*") is None:
            pair = _text_pair(child)
        else:
            pair = _element_pair(child)
            child.audit()
        if pair is not None:
            found.append(pair)
    return found


def repair(text: str) -> str:
    return _C1.sub(_windows_1252, text)


def _line(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(repair(text).split()) or None


def _element_pair(child: XmlRecord) -> Pair | None:
    name, value = line(child, "valueName"), line(child, "value")
    if value is None:
        return None
    if name is None:
        raise child.error(f"value {value!r} has no valueName", at="valueName")
    return Pair(name, value)


def _text_pair(child: XmlRecord) -> Pair | None:
    text = _line(child.text())
    if text is None:
        return None
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise child.error(f"{text!r} is neither valueName/value elements nor 'name=value'")
    return Pair(name.strip(), value.strip()) if value.strip() else None


def _at(record: XmlRecord, name: str) -> XmlRecord:
    """The child a fault is in, for its XPath and line."""
    return record.child(name) or record


def _windows_1252(match: re.Match[str]) -> str:
    try:
        return bytes([ord(match[0])]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D have no Windows-1252 character
        return match[0]
