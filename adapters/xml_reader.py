"""Reading an XML payload the way adapters need: streamed, safe, and with an XPath per fault.

Sanctions lists are megabytes to hundreds of megabytes, so records are parsed one at a time
(lxml's ``iterparse``) and each is freed once it has been translated: memory follows the
largest record, not the file. The parser resolves no entities, reads no DTD and touches no
network, and a document that declares entities is refused outright, which shuts out external
entities and expansion bombs alike; none of the formats we read needs a DTD.

Elements are matched on local names, because the same format changes namespace between
years (OFAC's sdnList did). Like ``adapters.json_fields``, a record is read by marking each
child and attribute as it is mapped, and what nobody read is counted as unmapped.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO

from lxml import etree

from adapters.base import TranslationContext
from broker.errors import TranslationError


def local_name(element: etree._Element) -> str:
    """The tag without its namespace; comments and processing instructions have none."""
    tag = element.tag
    return _local(tag) if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=4096)
def _local(name: str) -> str:
    """``{uri}local`` or a broken ``prefix:local`` (an undeclared prefix, which lxml reports
    only at the end of the document) both read as ``local``.

    Memoised (performance, issue #7): a list repeats a few dozen tag names millions of times,
    and splitting each one again was a tenth of a UN list's translation time. Bounded, so a
    hostile document of endless distinct tags cannot grow it.
    """
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


class XmlRecord:
    """One element of the payload, read by name, with its XPath for every fault."""

    def __init__(self, element: etree._Element, path: str, ctx: TranslationContext) -> None:
        self.element = element
        self.path = path
        self._ctx = ctx
        self._read: set[str] = set()
        self._by_name: dict[str, list[etree._Element]] | None = None
        """The element's children by local name, built on first use (see ``_children``)."""

    @property
    def where(self) -> str:
        return f"{self.path} (line {self.element.sourceline})"

    def error(self, reason: str, *, at: str | None = None) -> TranslationError:
        where = self.where if at is None else f"{self.path}/{at} (line {self.element.sourceline})"
        return TranslationError(format=self._ctx.format, where=where, reason=reason)

    def attr(self, name: str) -> str | None:
        """The stripped attribute; an empty one means absent, as in the EU file."""
        self._read.add(f"@{name}")
        value = self.element.get(name)
        return _clean(value)

    def text(self, name: str | None = None) -> str | None:
        """The stripped text of the first child called ``name`` (or of this element)."""
        if name is None:
            return _clean(self.element.text)
        found = self._children(name)
        return _clean(found[0].text) if found else None

    def texts(self, name: str) -> list[str]:
        """The non-empty texts of every child called ``name``."""
        return [text for child in self._children(name) if (text := _clean(child.text))]

    def child(self, name: str) -> XmlRecord | None:
        found = self.children(name)
        return found[0] if found else None

    def children(self, name: str) -> list[XmlRecord]:
        return [
            XmlRecord(child, f"{self.path}/{name}[{i}]", self._ctx)
            for i, child in enumerate(self._children(name), start=1)
        ]

    def ignore(self, *names: str) -> None:
        """Children or ``@attributes`` deliberately not mapped, so that they are not counted."""
        self._read.update(names)

    def audit(self) -> None:
        """Count the children and attributes of this element that no mapping read."""
        present = set(self._index())
        present |= {f"@{_local(name)}" for name in self.element.attrib}
        self._ctx.report_unmapped(self.path_pattern, present - self._read)

    @property
    def path_pattern(self) -> str:
        """The XPath without positions, so counters stay bounded however long the list."""
        return "/".join(step.split("[", 1)[0] for step in self.path.split("/"))

    def root_attributes(self) -> dict[str, str]:
        """The document element's attributes (list dates, versions), by local name.

        Read from the tree this record is part of, which keeps the document element whole
        while its entries are cleared: a second parse of the payload for them was a tenth of
        translating a one-entry list (performance, issue #7).
        """
        root = self.element.getroottree().getroot()
        return {_local(name): value for name, value in root.attrib.items()}

    def sha256(self) -> str:
        """Digest of this record's own bytes (canonical XML), the provenance of one list entry."""
        try:
            canonical = etree.tostring(self.element, method="c14n")
        except etree.C14NError:  # e.g. a relative namespace URI, which C14N refuses
            canonical = etree.tostring(self.element)
        return hashlib.sha256(canonical).hexdigest()

    def _children(self, name: str) -> list[etree._Element]:
        self._read.add(name)
        return self._index().get(name, [])

    def _index(self) -> dict[str, list[etree._Element]]:
        """Children grouped by local name, in document order, made in one pass.

        Performance (issue #7): a mapping looks up some twenty names per record, and scanning
        every child for each lookup made reading a UN list quadratic in a record's width; it
        was the largest cost of streaming one. A record's element is complete when it is
        handed out and nothing changes it while it is read, so the index stays true.
        Comments and processing instructions (no local name) are left out, as before.
        """
        if self._by_name is None:
            by_name: dict[str, list[etree._Element]] = {}
            for child in self.element:
                if name := local_name(child):
                    by_name.setdefault(name, []).append(child)
            self._by_name = by_name
        return self._by_name


def iter_records(ctx: TranslationContext, names: Iterable[str]) -> Iterator[XmlRecord]:
    """Each element whose local name is in ``names``, complete, in document order.

    Wanted elements must not nest inside one another. Each is cleared once the caller moves
    on, with the siblings before it, so the tree never grows. A parse error ends the stream
    with a ``TranslationError`` placed by line and column.

    Only end events are read, and a record's path is made from its ancestors when it is
    found: tracking every element's start as well doubled the parser's Python work
    (performance, issue #7).
    """
    wanted = frozenset(names)
    positions: Counter[str] = Counter()
    checked = False
    with ctx.open() as stream:
        try:
            for _, element in _events(stream):
                if not checked:
                    _refuse_entities(ctx, element)
                    checked = True
                name = local_name(element)
                if name not in wanted:
                    continue
                parent = "/".join(reversed([local_name(a) for a in element.iterancestors()]))
                positions[f"{parent}/{name}"] += 1
                path = f"/{parent}/{name}[{positions[f'{parent}/{name}']}]"
                yield XmlRecord(element, path, ctx)
                _release(element)
        except etree.XMLSyntaxError as err:
            raise _syntax_error(ctx, err) from err


def _events(stream: IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    return etree.iterparse(  # type: ignore[no-any-return]
        stream,
        events=("end",),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _syntax_error(ctx: TranslationContext, err: etree.XMLSyntaxError) -> TranslationError:
    line, column = err.position
    return TranslationError(
        format=ctx.format, where=f"line {line} column {column}", reason=f"invalid XML: {err.msg}"
    )


def _refuse_entities(ctx: TranslationContext, root: etree._Element) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise TranslationError(
            format=ctx.format,
            where="line 1 (DOCTYPE)",
            reason="XML entity declarations are refused (external entities, expansion bombs)",
        )


def _release(element: etree._Element) -> None:
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _clean(value: str | None) -> str | None:
    """Sources pad values with spaces and non-breaking spaces; blank means absent."""
    if value is None:
        return None
    stripped = value.replace("\u00a0", " ").strip()
    return stripped or None
