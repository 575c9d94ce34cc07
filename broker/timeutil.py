"""Time conversions at the Kafka edge, where timestamps are integer milliseconds."""

from __future__ import annotations

import datetime as dt


def from_kafka_timestamp(millis: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)
