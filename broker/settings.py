"""One typed settings object for every service, read from the environment (pydantic-settings).

Variables are prefixed ``NOTICES_``; the bootstrap servers also answer to Kafka's customary
``KAFKA_BOOTSTRAP_SERVERS``, which the test suite and docker-compose set.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.models import CountryCode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTICES_", frozen=True, extra="ignore", populate_by_name=True
    )

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "NOTICES_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers, comma-separated host:port.",
    )
    client_id: str = Field(default="notice-broker", description="Kafka client.id prefix.")
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prepended to every topic name, to run several hubs (or test runs) on one "
        "cluster without sharing topics.",
    )
    replication_factor: int = Field(
        default=1, ge=1, description="Replication factor of the topics the hub creates."
    )
    agencies: dict[str, CountryCode | None] = Field(
        default={"interpol": None},
        description="Agencies that publish raw notices, with their ISO 3166-1 country (null for "
        "international organisations); a raw.<agency> topic is created for each. JSON in "
        "NOTICES_AGENCIES.",
    )
    linger_ms: int = Field(default=5, ge=0, description="Producer linger.ms.")
    batch_max_records: int = Field(
        default=500,
        ge=1,
        description="Most records a service takes from Kafka at once; the ingest service "
        "commits one transaction per partition of such a batch.",
    )
    ingest_group_id: str = Field(
        default="notices-ingest", description="Consumer group of the ingest service."
    )
