"""Who may receive an alert: <scope>, <restriction>, <addresses> and, when the alert travels
inside an EDXL-DE distribution, that wrapper's confidentiality, as the hub's classification.

Every marking goes through a table (mapping.yml, then the shared adapters/markings.yml) and a
text no table knows raises ``UnknownMarking``: a restriction rule is free text, and one that
says more than "need to know" must not be read as less. Each marking can only raise the level
and TLP its scope gives, never lower them; a notice classified above UNCLASSIFIED (a
national marking under a Public scope, say) is never TLP:CLEAR, whatever its scope said.

``national_marking`` keeps what the sender wrote: the restriction rule verbatim (or the scope
when there is none), then any EDXL-DE confidentiality, separated by "; ".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from adapters.cap import fields
from adapters.cap.tables import CapMapping, ScopeRule
from adapters.markings import fold, marking_tables
from adapters.xml_reader import XmlRecord, local_name
from broker.errors import UnknownMarking
from broker.models import Classification, Level, Tlp

_LEVELS = list(Level)
_TLPS = list(Tlp)
_AGENCY_OR_COUNTRY = re.compile(r"[a-z0-9][a-z0-9-]*|[A-Z]{2}")
# EDXL-DE 1.0: the wrapper element and its confidentiality child, for each level that has one.
_EDXL_CONFIDENTIALITY = {
    "contentObject": "confidentiality",
    "EDXLDistribution": "combinedConfidentiality",
}


def classification(
    alert: XmlRecord, fmt: str, mapping: CapMapping, caveats: tuple[str, ...]
) -> Classification:
    scope = fields.line(alert, "scope")
    if scope is None:
        raise alert.error("missing: <scope> decides who may receive the alert", at="scope")
    rule = mapping.scopes.get(scope)
    if rule is None:
        raise UnknownMarking(
            format=fmt, where=_where(alert, "scope"), marking=scope, scheme="CAP scope"
        )
    level, tlp, markings = rule.level, rule.tlp, [rule.national_marking]
    restriction = fields.line(alert, "restriction")
    if restriction is not None:
        found_level, found_tlp = _restriction(
            restriction, _where(alert, "restriction"), fmt, mapping
        )
        level, tlp, markings = _higher(level, found_level), _safer(tlp, found_tlp), [restriction]
    for text, where in _wrapper_confidentiality(alert.element):
        level = _higher(level, _confidentiality(text, where, fmt, mapping))
        markings.append(text)
    return Classification(
        level=level,
        national_marking="; ".join(markings),
        tlp=tlp if level is Level.UNCLASSIFIED else _safer(tlp, mapping.classified_tlp),
        releasable_to=_recipients(alert, fmt, mapping, rule),
        originator_controlled=rule.originator_controlled,
        caveats=list(caveats),
    )


def _restriction(text: str, where: str, fmt: str, mapping: CapMapping) -> tuple[Level, Tlp | None]:
    """The rule's level and TLP: CAP's own table, else a national marking, else a TLP label."""
    rule = mapping.restrictions.get(fold(text))
    if rule is not None:
        return rule.level, rule.tlp
    tables = marking_tables()
    try:
        return tables.national_level(text, format=fmt, where=where), None
    except UnknownMarking:
        pass
    try:
        return Level.UNCLASSIFIED, tables.tlp(text, format=fmt, where=where)
    except UnknownMarking:
        raise UnknownMarking(
            format=fmt, where=where, marking=text, scheme="CAP restriction"
        ) from None


def _confidentiality(text: str, where: str, fmt: str, mapping: CapMapping) -> Level:
    level = mapping.edxl_confidentiality.get(fold(text))
    if level is not None:
        return level
    try:
        return marking_tables().national_level(text, format=fmt, where=where)
    except UnknownMarking:
        raise UnknownMarking(
            format=fmt, where=where, marking=text, scheme="EDXL-DE confidentiality"
        ) from None


def _wrapper_confidentiality(element: etree._Element) -> Iterator[tuple[str, str]]:
    """EDXL-DE confidentiality of the content object and distribution around the alert.

    Both precede the embedded alert in EDXL-DE's element order, so the streaming reader has
    parsed them when the alert ends.
    """
    for ancestor in element.iterancestors():
        wanted = _EDXL_CONFIDENTIALITY.get(local_name(ancestor))
        if wanted is None:
            continue
        for child in ancestor:
            text = " ".join(fields.repair(child.text or "").split())
            if local_name(child) == wanted and text:
                yield text, f"{local_name(ancestor)}/{wanted} (line {child.sourceline})"


def _recipients(alert: XmlRecord, fmt: str, mapping: CapMapping, rule: ScopeRule) -> list[str]:
    text = fields.line(alert, "addresses")
    if rule.addresses == "ignored":
        return []
    where = _where(alert, "addresses")
    try:
        addresses = fields.items(text)
    except ValueError as err:
        raise (alert.child("addresses") or alert).error(str(err)) from err
    if not addresses and rule.addresses == "required":
        raise alert.error(
            "missing: a Private alert goes only to its <addresses>, and it names none",
            at="addresses",
        )
    return list(dict.fromkeys(_recipient(address, where, fmt, mapping) for address in addresses))


def _recipient(address: str, where: str, fmt: str, mapping: CapMapping) -> str:
    found = mapping.addresses.get(address.casefold())
    if found is not None:
        return found
    if _AGENCY_OR_COUNTRY.fullmatch(address):
        return address
    raise UnknownMarking(format=fmt, where=where, marking=address, scheme="CAP address")


def _higher(level: Level, other: Level) -> Level:
    return max(level, other, key=_LEVELS.index)


def _safer(tlp: Tlp, other: Tlp | None) -> Tlp:
    return tlp if other is None else max(tlp, other, key=_TLPS.index)


def _where(record: XmlRecord, name: str) -> str:
    return (record.child(name) or record).where
