"""SCRAM users and ACLs on a running cluster, set through the Kafka Admin API as the hub.

aiokafka's admin client has neither ACL nor SCRAM calls. confluent-kafka's AdminClient has
both (``create_acls``, ``alter_user_scram_credentials``), talks the protocol directly and answers
in milliseconds, where Kafka's own AclCommand starts a JVM for every call (~2.5 s). Its calls
block, so async callers run these functions in a thread.

A change is committed by the controller before the broker that serves clients applies it, so
each function returns only once the broker lists the change: a client that logs in right after
must not meet the old state.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaException

# The documented import path; the package re-exports these without an __all__ that says so.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding as KafkaAclBinding,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from broker.access import AclBinding, Operation, Pattern, Resource
from broker.errors import AccessAdminError
from broker.settings import Settings

_ANY_HOST = "*"
# Kafka's minimum for SCRAM-SHA-512 is 4096; twice that still costs a login only milliseconds.
_SCRAM_ITERATIONS = 8192
_REQUEST_TIMEOUT = 15.0
_POLL_SECONDS = 0.1
# None matches any name, principal and host (the documented filter; the annotations say str).
_ANY: Any = None
_EVERY_ACL = AclBindingFilter(
    ResourceType.ANY,
    _ANY,
    ResourcePatternType.ANY,
    _ANY,
    _ANY,
    AclOperation.ANY,
    AclPermissionType.ANY,
)


def admin_config(settings: Settings) -> dict[str, str | int | float | bool]:
    """librdkafka's names for what ``broker.kafka_clients`` gives aiokafka."""
    config: dict[str, str | int | float | bool] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": f"{settings.client_id}-access-admin",
        "security.protocol": settings.security_protocol,
    }
    if (login := settings.sasl_login) is not None:
        config |= {
            "sasl.mechanism": settings.sasl_mechanism,
            "sasl.username": login[0],
            "sasl.password": login[1],
        }
    if settings.ssl_cafile is not None:
        config["ssl.ca.location"] = str(settings.ssl_cafile)
    return config


def upsert_scram_users(hub: Settings, passwords: Mapping[str, str], *, timeout: float = 30) -> None:
    """Create these SCRAM-SHA-512 users, or set their passwords if they exist.

    The wait covers new users; a changed password is not visible to the Admin API.
    """
    if not passwords:
        return
    mechanism = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, _SCRAM_ITERATIONS)
    alterations: list[Any] = [
        UserScramCredentialUpsertion(user, mechanism, password.encode())
        for user, password in passwords.items()
    ]
    with _admin(hub) as admin:
        _await_all(
            admin.alter_user_scram_credentials(alterations, request_timeout=_REQUEST_TIMEOUT),
            "setting SCRAM credentials",
        )
        _until(
            lambda: set(passwords) <= _scram_users(admin),
            timeout,
            f"SCRAM users {sorted(passwords)}",
        )


def apply_acls(hub: Settings, bindings: Iterable[AclBinding], *, timeout: float = 30) -> None:
    """Create the bindings; ones that already exist are left as they are."""
    wanted = set(bindings)
    if not wanted:
        return
    with _admin(hub) as admin:
        _await_all(
            admin.create_acls(
                [_to_kafka(b) for b in sorted(wanted)], request_timeout=_REQUEST_TIMEOUT
            ),
            "creating ACLs",
        )
        _until(lambda: wanted <= _listed_acls(admin), timeout, f"{len(wanted)} ACL bindings")


def remove_acls(hub: Settings, bindings: Iterable[AclBinding], *, timeout: float = 30) -> None:
    """Delete exactly these bindings (each filter matches one binding); ones that do not exist
    are no error. Returns once the broker no longer lists any of them."""
    unwanted = set(bindings)
    if not unwanted:
        return
    with _admin(hub) as admin:
        _await_all(
            admin.delete_acls(
                [_filter(b) for b in sorted(unwanted)], request_timeout=_REQUEST_TIMEOUT
            ),
            "deleting ACLs",
        )
        _until(
            lambda: not unwanted & _listed_acls(admin),
            timeout,
            f"the removal of {len(unwanted)} ACL bindings",
        )


def listed_acls(hub: Settings) -> set[AclBinding]:
    """The bindings the cluster holds that have the shape ``broker.access`` makes."""
    with _admin(hub) as admin:
        return _listed_acls(admin)


@contextlib.contextmanager
def _admin(hub: Settings) -> Iterator[AdminClient]:
    """A client closed on leaving. Given a logger, librdkafka hands its log lines over only when
    the client is polled, which these calls never do: so its chatter stays out of the CLI's
    output (it printed to stderr otherwise), and every failure still arrives through a future.
    """
    with AdminClient(admin_config(hub), logger=logging.getLogger(__name__)) as admin:
        yield admin


def _to_kafka(binding: AclBinding) -> KafkaAclBinding:
    return KafkaAclBinding(
        ResourceType[binding.resource.value],
        binding.name,
        ResourcePatternType[binding.pattern.value],
        binding.principal,
        _ANY_HOST,
        AclOperation[binding.operation.value],
        AclPermissionType.ALLOW,
    )


def _filter(binding: AclBinding) -> AclBindingFilter:
    """A filter naming every field, so that it matches this binding and no other."""
    kafka = _to_kafka(binding)
    return AclBindingFilter(
        kafka.restype,
        kafka.name,
        kafka.resource_pattern_type,
        kafka.principal,
        kafka.host,
        kafka.operation,
        kafka.permission_type,
    )


def _listed_acls(admin: AdminClient) -> set[AclBinding]:
    """The broker's bindings of the shape ``broker.access`` makes; others cannot match ours."""
    listed = _result(admin.describe_acls(_EVERY_ACL, request_timeout=_REQUEST_TIMEOUT), "listing")
    return {
        AclBinding(
            acl.principal,
            Resource(acl.restype.name),
            acl.name,
            Operation(acl.operation.name),
            Pattern(acl.resource_pattern_type.name),
        )
        for acl in listed
        if acl.permission_type == AclPermissionType.ALLOW
        and acl.host == _ANY_HOST
        and acl.restype.name in Resource.__members__
        and acl.operation.name in Operation.__members__
        and acl.resource_pattern_type.name in Pattern.__members__
    }


def _scram_users(admin: AdminClient) -> set[str]:
    described = admin.describe_user_scram_credentials(request_timeout=_REQUEST_TIMEOUT)
    assert isinstance(described, Future), "asked about every user, it answers with one future"
    return set(_result(described, "listing SCRAM users"))


def _await_all(futures: Mapping[Any, Future[Any]], what: str) -> None:
    for future in futures.values():
        _result(future, what)


def _result(future: Future[Any], what: str) -> Any:
    try:
        return future.result(timeout=_REQUEST_TIMEOUT + 5)
    except (KafkaException, TimeoutError) as exc:
        raise AccessAdminError(f"{what} failed: {exc}") from exc


def _until(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            raise AccessAdminError(f"the broker did not list {what} within {timeout:g} s")
        time.sleep(_POLL_SECONDS)
