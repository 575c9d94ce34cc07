"""One typed settings object for every service, read from the environment (pydantic-settings).

Variables are prefixed ``NOTICES_``; the bootstrap servers also answer to Kafka's customary
``KAFKA_BOOTSTRAP_SERVERS``, which the test suite and docker-compose set. The security fields
carry the names of Kafka's client configs (``security.protocol``, ``sasl.mechanism``, ...) and
default to PLAINTEXT, so a cluster without authentication needs no security variables at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.fault_points import FaultPlan
from broker.models import CountryCode

_ENV_PREFIX = "NOTICES_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX, frozen=True, extra="ignore", populate_by_name=True
    )

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "NOTICES_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers, comma-separated host:port.",
    )
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="Kafka security.protocol. SASL_SSL wherever a notice crosses a network; "
        "the local broker of `notices kafka up` has SASL_SSL for agencies and SASL_PLAINTEXT "
        "on the loopback for the hub's services.",
    )
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="Kafka sasl.mechanism, used with a SASL protocol."
    )
    sasl_username: str | None = Field(
        default=None, description="SASL user: the principal is User:<this>. SASL protocols only."
    )
    sasl_password: SecretStr | None = Field(
        default=None, description="Password of sasl_username. SASL protocols only."
    )
    ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that signed the brokers' certificates, for SASL_SSL; "
        "the system's trust store when unset.",
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
    schema_registry_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        validation_alias=AliasChoices("SCHEMA_REGISTRY_URL", "NOTICES_SCHEMA_REGISTRY_URL"),
        description="Base URL of a schema registry's Confluent-compatible REST API (Confluent, "
        "or Apicurio's .../apis/ccompat/v7). When set, producers write the Confluent wire "
        "format with ids from it; unset, the single-object encoding. Readers take both.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of a service's /metrics (Prometheus) and /ready endpoints; 0 picks a "
        "free one. Unset, a service serves none, so several can run on one host untouched.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the metrics endpoint listens on (0.0.0.0 in a container).",
    )
    offsets_poll_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often a service asks Kafka for its consumer lag and the DLQ depth.",
    )
    audit_verify_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often the distributor re-verifies the whole audit trail for its "
        "metrics; 0 never.",
    )
    group_instance_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Kafka group.instance.id of this service replica (static membership, "
        "KIP-345). Give each replica a stable one: restarted after a crash, it gets its "
        "partitions back at once instead of after the session timeout (10 s), which is what "
        "keeps an embargo release due meanwhile within seconds of its time. A replica that "
        "stops for good keeps its partitions until that timeout. Unset: dynamic membership.",
    )
    faults: FaultPlan | None = Field(
        default=None,
        description="Faults a service injects into itself, for the chaos harness only "
        "(broker/fault_points.py); JSON in NOTICES_FAULTS. Unset in every real deployment.",
    )

    @model_validator(mode="after")
    def _security_is_consistent(self) -> Self:
        """Credentials a protocol would not use are a mistake that would otherwise show up
        only as a refused connection, so they fail at start like missing ones."""
        sasl = self.security_protocol.startswith("SASL_")
        credentials = (self.sasl_username is not None, self.sasl_password is not None)
        if sasl and not all(credentials):
            raise ValueError(f"{self.security_protocol} needs sasl_username and sasl_password")
        if not sasl and any(credentials):
            raise ValueError(f"sasl_username/sasl_password given, but {self.security_protocol}")
        if self.ssl_cafile is not None and self.security_protocol != "SASL_SSL":
            raise ValueError(f"ssl_cafile given, but {self.security_protocol} uses no TLS")
        return self

    @property
    def sasl_login(self) -> tuple[str, str] | None:
        """(user, password) when the protocol authenticates, else None."""
        if self.sasl_username is None or self.sasl_password is None:
            return None
        return self.sasl_username, self.sasl_password.get_secret_value()

    def to_env(self, *fields: str) -> dict[str, str]:
        """Environment variables from which ``Settings()`` in a child process rebuilds these
        settings (only ``fields``, when named), secrets included: the way a test or a
        supervisor hands the hub's identity to a service it starts."""
        env: dict[str, str] = {}
        for name, value in self.model_dump(mode="json", exclude_none=True).items():
            if fields and name not in fields:
                continue
            raw = getattr(self, name)
            if isinstance(raw, SecretStr):
                value = raw.get_secret_value()
            env[_env_name(name)] = value if isinstance(value, str) else json.dumps(value)
        return env


def _env_name(field: str) -> str:
    """The variable pydantic-settings reads first for ``field``."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"{_ENV_PREFIX}{field.upper()}"
