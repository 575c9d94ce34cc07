"""The lists one publisher issues in one schema, told apart by the format header.

OFAC's SDN and Consolidated lists, or OFSI's list and the FCDO's, share a schema and the
publisher's habits but differ in legal effect or audience; mapping.yml gives each list its
rules, and the header says which list a payload is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Adapter, TranslationContext
from adapters.sanctions_common import freeze_notice
from broker.errors import TranslationError
from broker.models import Classification, FreezeOrder, Level, NoticeEnvelope, Tlp

R = TypeVar("R")


class ListRules(BaseModel):
    """How one list's notices are named and marked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_prefix: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    level: Level
    tlp: Tlp
    national_marking: str

    def freeze_notice(
        self,
        ctx: TranslationContext,
        adapter: Adapter,
        *,
        key: str,
        issued: dt.datetime,
        body: FreezeOrder,
        sha256: str,
    ) -> NoticeEnvelope:
        """The listing's notice, its id the list's key for the listing behind the prefix."""
        return freeze_notice(
            ctx,
            adapter,
            notice_id=f"{self.notice_prefix}-{key}",
            original_id=key,
            issued=issued,
            classification=Classification(
                level=self.level, tlp=self.tlp, national_marking=self.national_marking
            ),
            body=body,
            sha256=sha256,
        )


def list_rules(ctx: TranslationContext, lists: Mapping[str, R], reason: str) -> R:
    """The rules of the list the format header names; the header is at fault for any other."""
    rules = lists.get(ctx.format)
    if rules is None:
        raise TranslationError(format=ctx.format, where="header 'format'", reason=reason)
    return rules
