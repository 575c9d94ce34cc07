"""Every alert that is not about a person to find, as an intelligence bulletin.

Title, summary and text are the primary block's headline (or event), description and
instruction; the other blocks follow in the text. Topics are CAP's categories in words, every
block's event (so a bilingual alert is found by its French event too), event codes and the
alert's handling codes, as ``valueName=value`` or verbatim. Parameters become indicators of
kind ``x-cap-parameter`` (STIX's prefix for custom kinds): the value verbatim, the valueName
as what it means (VTEC, UGC, magnitude...); empty ones are left out.

Threat level: each block's severity capped by its urgency (mapping.yml), the highest block
wins. Certainty becomes the Admiralty information credibility; CAP grades no source. The
validity window is the primary block's effective time (CAP: <sent> when absent) to its
expiry. <onset>, when the hazard itself starts, is not the notice's embargo (CAP has none:
alerts are for immediate distribution), so it stays a line of the text.
"""

from __future__ import annotations

from adapters.cap import content
from adapters.cap.lifecycle import Lifecycle
from adapters.cap.reading import Alert, Info
from adapters.cap.tables import CapMapping
from broker.models import Indicator, IntelBulletin, ThreatLevel

_THREAT_SCALE = [
    ThreatLevel.LOW,
    ThreatLevel.MODERATE,
    ThreatLevel.SUBSTANTIAL,
    ThreatLevel.SEVERE,
    ThreatLevel.CRITICAL,
]


def bulletin(alert: Alert, lifecycle: Lifecycle, mapping: CapMapping) -> IntelBulletin:
    first = alert.infos[0] if alert.infos else None
    return IntelBulletin(
        title=_title(alert, first, lifecycle),
        summary=first.description if first else None,
        text=content.join(
            first.instruction if first else None,
            content.particulars(alert),
            *content.other_blocks(alert),
        ),
        threat_level=_threat_level(alert.infos, mapping),
        topics=_topics(alert, mapping),
        indicators=list(
            dict.fromkeys(
                Indicator(kind="x-cap-parameter", value=parameter.value, description=parameter.name)
                for info in alert.primary
                for parameter in info.parameters
            )
        ),
        related_entities=[
            *content.related(alert, content.primary_resources(alert)),
            *lifecycle.related,
        ],
        information_credibility=mapping.credibility.get(first.certainty or "") if first else None,
        valid_from=(first.effective or alert.sent) if first else None,
        valid_until=first.expires if first else None,
    )


def _title(alert: Alert, first: Info | None, lifecycle: Lifecycle) -> str:
    """The headline, else the event; an alert without <info> (a bare Cancel) has its note."""
    if first is not None and (first.headline or first.event):
        return first.headline or first.event or ""
    if alert.note:
        return alert.note.splitlines()[0]
    return f"CAP {lifecycle.msg_type.value.lower()}: {alert.reference}"


def _threat_level(infos: tuple[Info, ...], mapping: CapMapping) -> ThreatLevel:
    levels = [level for info in infos if (level := _block_threat(info, mapping)) in _THREAT_SCALE]
    return max(levels, key=_THREAT_SCALE.index, default=ThreatLevel.UNKNOWN)


def _block_threat(info: Info, mapping: CapMapping) -> ThreatLevel:
    tables = mapping.threat_levels
    level = tables.severity.get(info.severity or "", ThreatLevel.UNKNOWN)
    cap = tables.urgency_cap.get(info.urgency or "")
    if cap is None or level not in _THREAT_SCALE:
        return level
    return min(level, cap, key=_THREAT_SCALE.index)


def _topics(alert: Alert, mapping: CapMapping) -> list[str]:
    topics = [
        *(mapping.categories.get(c, c) for info in alert.infos for c in info.categories),
        *(info.event for info in alert.infos if info.event),
        *(str(code) for info in alert.infos for code in info.event_codes),
        *alert.codes,
    ]
    return list(dict.fromkeys(topics))
