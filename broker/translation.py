"""Raw payload to notices, with the one error boundary of translation. Pure: no Kafka.

Adapters raise; everything they raise, a bug included, becomes a ``DeadLetter`` that says
where and why, so the service routes the untouched bytes to the dead-letter topic and keeps
running.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.errors import TranslationError
from broker.models import NoticeEnvelope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    """Why a raw record could not become notices."""

    error_type: str
    where: str
    reason: str


def translate_record(
    registry: AdapterRegistry, ctx: TranslationContext
) -> list[NoticeEnvelope] | DeadLetter:
    """Every notice in one raw payload, or the dead letter that explains why there are none."""
    try:
        adapter = registry.for_format(ctx.format)
        if ctx.path is None and not ctx.raw:
            raise TranslationError(format=ctx.format, where="record value", reason="empty payload")
        return list(adapter.translate(ctx))
    except TranslationError as exc:
        return DeadLetter(type(exc).__name__, exc.where, exc.reason)
    except ValidationError as exc:
        return DeadLetter("ValidationError", "canonical notice", str(exc))
    except Exception as exc:  # an adapter bug must not stop the hub nor lose the payload
        log.exception("adapter for %s failed on a %d-byte payload", ctx.format, len(ctx.raw))
        return DeadLetter(type(exc).__name__, "adapter", f"adapter bug: {exc!r}")
