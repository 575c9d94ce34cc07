"""Kafka clients configured the one way this hub uses them.

Producers are idempotent with acks=all so a retried send never duplicates or reorders a
notice; consumers commit by hand (after the work is done) and read only committed data. Every
client logs in with the settings' security, so no code path can reach a secured cluster
anonymously or as someone else by forgetting an argument.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from broker.settings import Settings


def security_options(settings: Settings) -> dict[str, Any]:
    """aiokafka's arguments for the settings' security protocol and SASL login."""
    login = settings.sasl_login
    if login is None:
        return {}
    options: dict[str, Any] = {
        "security_protocol": settings.security_protocol,
        "sasl_mechanism": settings.sasl_mechanism,
        "sasl_plain_username": login[0],
        "sasl_plain_password": login[1],
    }
    if settings.security_protocol == "SASL_SSL":
        cafile = str(settings.ssl_cafile) if settings.ssl_cafile else None
        options["ssl_context"] = create_ssl_context(cafile=cafile)
    return options


def new_producer(settings: Settings, *, role: str, **overrides: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-{role}",
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        **security_options(settings),
        **overrides,
    )


def new_consumer(
    settings: Settings, *topics: str, group_id: str | None, role: str, **overrides: Any
) -> AIOKafkaConsumer:
    """``group_id=None`` makes a reader outside any group, one that can commit nothing.

    ``overrides`` may replace the defaults (a verifier that must see aborted records reads
    ``isolation_level="read_uncommitted"``), never the login. A replica with a
    ``group_instance_id`` is a static member of every group it joins.
    """
    options: dict[str, Any] = {
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        **overrides,
    }
    if group_id is not None and settings.group_instance_id is not None:
        options.setdefault("group_instance_id", settings.group_instance_id)
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-{role}",
        group_id=group_id,
        **options,
        **security_options(settings),
    )


def new_admin(settings: Settings, **overrides: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-admin",
        **security_options(settings),
        **overrides,
    )
