"""Notices an agency holds, which drop out as they expire or are cancelled.

A notice with an ``expires_at`` is not to be acted on after it; an application that keeps
notices (a watch list, a screening index) holds them here, and reading the current set never
returns one that has expired since it arrived. A CANCEL removes the notice; an UPDATE
replaces it; an older version than the one held is ignored.
"""

from __future__ import annotations

import datetime as dt

from broker.models import MsgType, NoticeEnvelope


class HeldNotices:
    """A sink: ``HeldNotices()(notice)`` files it; ``current(now)`` is what may be acted on."""

    def __init__(self) -> None:
        self._held: dict[str, NoticeEnvelope] = {}
        self.expired = 0
        """Notices dropped because they expired while held."""

    def __call__(self, notice: NoticeEnvelope) -> None:
        held = self._held.get(notice.notice_id)
        if held is not None and held.version > notice.version:
            return
        if notice.msg_type is MsgType.CANCEL:
            self._held.pop(notice.notice_id, None)
        else:
            self._held[notice.notice_id] = notice

    def current(self, now: dt.datetime) -> list[NoticeEnvelope]:
        """Every notice still in force, after dropping those that expired."""
        expired = [
            notice_id
            for notice_id, notice in self._held.items()
            if notice.expires_at is not None and notice.expires_at <= now
        ]
        for notice_id in expired:
            del self._held[notice_id]
        self.expired += len(expired)
        return list(self._held.values())
