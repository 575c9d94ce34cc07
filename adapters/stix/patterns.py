"""STIX patterns read as the observables they name, when they name nothing more.

``[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2']`` is two
indicators a recipient can search for. A pattern that asks more than "is it one of these
values" (AND, FOLLOWEDBY, NOT, qualifiers such as WITHIN, regular expressions, ranges)
would lose its meaning split into values, so it is kept whole and verbatim, as is any
pattern this reader does not follow. The grammar is STIX 2.1 Patterning (section 9), of
which only the disjunction of equalities is taken apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROPERTY = r"(?:[A-Za-z_][A-Za-z0-9_-]*|'(?:[^'\\]|\\.)*')(?:\[(?:\d+|\*)\])?"
_TOKEN = re.compile(
    rf"""\s*(?:
      (?P<path>[a-z0-9][a-z0-9-]*:{_PROPERTY}(?:\.{_PROPERTY})*)
    | (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<typed>[thb]'(?:[^'\\]|\\.)*')
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<word>[A-Za-z_]+)
    | (?P<op><=|>=|!=|[=<>\[\](),])
    )""",
    re.VERBOSE,
)
_QUOTED_PART = re.compile(r"'((?:[^'\\]|\\.)*)'")
_INDEX = re.compile(r"\[(?:\d+|\*)\]")
_ESCAPE = re.compile(r"\\(.)")
_MAX_DEPTH = 64
"""Parentheses nested deeper than this are no simple disjunction, and recursion stays bounded."""


@dataclass(frozen=True)
class Comparison:
    """``object_type:path = value``: one observable value the pattern matches."""

    object_type: str
    path: str
    """The object path with quotes removed and list indexes as [*]: hashes.SHA-256."""
    value: str
    subset: bool = False
    """True for ISSUBSET: the value is a network (CIDR) the address falls in."""


def equalities(pattern: str) -> list[Comparison] | None:
    """The values a pattern matches when it is a disjunction of equalities, else None."""
    tokens = _tokens(pattern)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    try:
        found = parser.disjunction(outer=True, depth=0)
    except _NotSimple:
        return None
    return found if parser.done() else None


class _NotSimple(Exception):
    """The pattern says more than a list of values (or is not STIX patterning)."""


def _tokens(pattern: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = pattern.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            return None
        tokens.append((match.lastgroup, match[match.lastgroup]))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the simple sub-language: OR of [comparisons OR comparisons]."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._next = 0

    def done(self) -> bool:
        return self._next == len(self._tokens)

    def disjunction(self, *, outer: bool, depth: int) -> list[Comparison]:
        """Observation expressions (outer) or comparisons (inside brackets), joined by OR."""
        if depth > _MAX_DEPTH:
            raise _NotSimple
        found = self._term(outer=outer, depth=depth)
        while self._peek() == ("word", "OR"):
            self._next += 1
            found += self._term(outer=outer, depth=depth)
        return found

    def _term(self, *, outer: bool, depth: int) -> list[Comparison]:
        if self._accept("op", "("):
            found = self.disjunction(outer=outer, depth=depth + 1)
            self._expect("op", ")")
            return found
        if outer:
            self._expect("op", "[")
            found = self.disjunction(outer=False, depth=depth + 1)
            self._expect("op", "]")
            return found
        return self._comparison()

    def _comparison(self) -> list[Comparison]:
        kind, path = self._take()
        if kind != "path":
            raise _NotSimple
        object_type, _, property_path = path.partition(":")
        property_path = _INDEX.sub("[*]", _QUOTED_PART.sub(r"\1", property_path))
        if self._accept("op", "="):
            return [Comparison(object_type, property_path, self._literal())]
        if self._accept("word", "ISSUBSET"):
            return [Comparison(object_type, property_path, self._literal(), subset=True)]
        if self._accept("word", "IN"):
            self._expect("op", "(")
            values = [self._literal()]
            while self._accept("op", ","):
                values.append(self._literal())
            self._expect("op", ")")
            return [Comparison(object_type, property_path, value) for value in values]
        raise _NotSimple

    def _literal(self) -> str:
        kind, text = self._take()
        if kind == "string":
            return _ESCAPE.sub(r"\1", text[1:-1])
        if kind == "number":
            return text
        raise _NotSimple

    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._next] if self._next < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _NotSimple
        self._next += 1
        return token

    def _accept(self, kind: str, text: str) -> bool:
        if self._peek() == (kind, text):
            self._next += 1
            return True
        return False

    def _expect(self, kind: str, text: str) -> None:
        if not self._accept(kind, text):
            raise _NotSimple
