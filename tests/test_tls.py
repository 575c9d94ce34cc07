"""Encryption in transit for agencies: the local CA and broker certificate of ops/tls.py, and
the real broker's SASL_SSL agency listener, which refuses plaintext, a broker certificate the
client cannot verify, and a name the certificate does not carry."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from broker.access import agency_acls, agency_group
from broker.errors import TlsMaterialError
from broker.kafka_clients import new_admin, new_consumer, new_producer, security_options
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from ops.acls import apply_acls
from ops.tls import (
    BROKER_VALIDITY,
    Issued,
    TlsFiles,
    certificate_pem,
    ensure_tls,
    new_broker_certificate,
    new_ca,
    serves,
    subject_alt_names,
)
from tests.conftest import KafkaUnderTest

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
AGENCY = "agency-a"
WAIT = 30.0


@pytest.fixture(scope="module")
def ca() -> Issued:
    return new_ca(NOW)


def test_the_broker_certificate_names_the_loopback_and_the_hosts_given_and_chains_to_the_ca(
    ca: Issued,
) -> None:
    broker = new_broker_certificate(ca, ["kafka"], NOW).certificate
    assert subject_alt_names(broker) == {"127.0.0.1", "localhost", "kafka"}
    broker.verify_directly_issued_by(ca.certificate)
    assert not broker.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usages = broker.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (constraints.value.ca, constraints.value.path_length) == (True, 0)
    assert serves(broker, ca.certificate, ["kafka"], NOW)


def test_a_certificate_stops_serving_for_a_new_host_another_ca_or_near_its_expiry(
    ca: Issued,
) -> None:
    broker = new_broker_certificate(ca, [], NOW).certificate
    assert serves(broker, ca.certificate, [], NOW)
    assert not serves(broker, ca.certificate, ["kafka"], NOW), "a host it does not name"
    assert not serves(broker, new_ca(NOW).certificate, [], NOW), "signed by another CA"
    assert not serves(broker, ca.certificate, [], NOW + BROKER_VALIDITY - dt.timedelta(days=1))


def test_a_host_that_is_neither_an_address_nor_a_dns_name_is_refused(ca: Issued) -> None:
    with pytest.raises(TlsMaterialError, match=r"'kafka host' is neither an IP address"):
        new_broker_certificate(ca, ["kafka host"], NOW)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_material_is_kept_on_a_second_run_and_private_keys_are_owner_only(
    tmp_path: Path,
) -> None:
    """A restart of the same data folder reuses it, so an agency's copy of the CA stays good."""
    files = ensure_tls(tmp_path / "tls", now=NOW)
    first = {path: path.read_bytes() for path in (files.ca_cert, files.ca_key, files.keystore)}
    assert (_mode(files.ca_key), _mode(files.keystore)) == (0o600, 0o600)
    assert _mode(files.ca_cert) == 0o644
    assert ensure_tls(tmp_path / "tls", now=NOW + dt.timedelta(days=30)) == files
    assert {path: path.read_bytes() for path in first} == first


def test_a_new_host_or_a_near_expiry_reissues_the_broker_certificate_from_the_same_ca(
    tmp_path: Path,
) -> None:
    files = ensure_tls(tmp_path, now=NOW)
    ca_pem, keystore = files.ca_cert.read_bytes(), files.keystore.read_bytes()
    ensure_tls(tmp_path, ["kafka"], now=NOW)
    assert files.ca_cert.read_bytes() == ca_pem
    assert files.keystore.read_bytes() != keystore
    [certificate] = x509.load_pem_x509_certificates(files.keystore.read_bytes())
    assert "kafka" in subject_alt_names(certificate)

    keystore = files.keystore.read_bytes()
    ensure_tls(tmp_path, ["kafka"], now=NOW + BROKER_VALIDITY - dt.timedelta(days=10))
    assert files.ca_cert.read_bytes() == ca_pem
    assert files.keystore.read_bytes() != keystore


def test_a_ca_without_its_key_is_an_error_and_is_not_replaced(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, now=NOW)
    ca_pem = files.ca_cert.read_bytes()
    files.ca_key.unlink()
    with pytest.raises(TlsMaterialError, match=r"ca-key.pem: is missing beside the rest of the CA"):
        ensure_tls(tmp_path, now=NOW)
    assert files.ca_cert.read_bytes() == ca_pem


def test_a_ca_key_that_is_not_the_certificates_is_an_error(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, now=NOW)
    other = TlsFiles(tmp_path / "other")
    ensure_tls(other.folder, now=NOW)
    files.ca_key.write_bytes(other.ca_key.read_bytes())
    with pytest.raises(TlsMaterialError, match=r"ca-key.pem: is not the key of the CA"):
        ensure_tls(tmp_path, now=NOW)


# Against the session's real broker.


@pytest.fixture
def local(kafka_under_test: KafkaUnderTest) -> KafkaUnderTest:
    if kafka_under_test.agency_bootstrap is None:
        pytest.skip("only the local broker has the agency TLS listener of ops/tls.py")
    return kafka_under_test


@pytest.fixture
async def agency(local: KafkaUnderTest, settings: Settings) -> Settings:
    """The agency's login over TLS, with its ACLs on this test's raw and deliver topics, and one
    record waiting in its deliver topic."""
    topics = TopicNames(settings.topic_prefix)
    admin = new_admin(settings)
    await admin.start()
    try:
        specs = [TopicSpec(topics.raw(AGENCY), 1), TopicSpec(topics.deliver(AGENCY), 1)]
        await ensure_topics(admin, specs, replication_factor=1)
    finally:
        await admin.close()
    bindings = agency_acls([AGENCY], topics, hub_user=settings.sasl_username or "")
    await asyncio.to_thread(apply_acls, settings, bindings)
    await _write(settings, topics.deliver(AGENCY), b"for agency-a")
    return local.agency_login(settings, AGENCY)


async def _write(settings: Settings, topic: str, value: bytes) -> None:
    producer = new_producer(settings, role="test-tls")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _read_one(settings: Settings, topic: str, group_id: str) -> bytes | None:
    consumer = new_consumer(settings, topic, group_id=group_id, role="test-tls")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), WAIT)
        await consumer.commit()
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


@pytest.mark.kafka
async def test_an_agency_writes_and_reads_what_its_acls_allow_over_tls(
    agency: Settings, local: KafkaUnderTest
) -> None:
    assert agency.security_protocol == "SASL_SSL"
    assert (agency.bootstrap_servers, agency.ssl_cafile) == (local.agency_bootstrap, local.ca_file)
    context = security_options(agency)["ssl_context"]
    assert (context.check_hostname, context.verify_mode) == (True, ssl.CERT_REQUIRED)
    topics = TopicNames(agency.topic_prefix)
    await _write(agency, topics.raw(AGENCY), b"from a liaison system, encrypted")
    group = agency_group(topics, AGENCY)
    assert await _read_one(agency, topics.deliver(AGENCY), group) == b"for agency-a"


async def _refused(settings: Settings) -> KafkaConnectionError:
    admin = new_admin(settings, request_timeout_ms=5000)
    try:
        with pytest.raises(KafkaConnectionError) as refused:
            await admin.start()
    finally:
        await admin.close()
    return refused.value


def _handshake_failures(log: Path, port: int) -> int:
    """The broker's own record of TLS handshakes that failed on its agency listener."""
    marker = f"channelId=127.0.0.1:{port}-"
    return sum(
        marker in line and "(SSL handshake failed)" in line
        for line in log.read_text(errors="replace").splitlines()
    )


@pytest.fixture
def aiokafka_errors(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """aiokafka logs why a connection failed and raises only "Unable to bootstrap"."""
    with caplog.at_level(logging.ERROR, logger="aiokafka"):
        yield caplog


@pytest.mark.kafka
async def test_a_plaintext_client_is_refused_on_the_agency_listener(
    local: KafkaUnderTest, settings: Settings, aiokafka_errors: pytest.LogCaptureFixture
) -> None:
    assert local.agency_bootstrap is not None and local.broker_log is not None
    plaintext = local.agency_login(settings, AGENCY).model_copy(
        update={"security_protocol": "SASL_PLAINTEXT", "ssl_cafile": None}
    )
    port = int(local.agency_bootstrap.rsplit(":", 1)[1])
    before = _handshake_failures(local.broker_log, port)

    refused = await _refused(plaintext)

    assert "Unable to bootstrap from" in str(refused)
    said = aiokafka_errors.text
    assert f'Unable connect to "{local.agency_bootstrap}"' in said
    assert f"Connection at {local.agency_bootstrap} closed" in said
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while _handshake_failures(local.broker_log, port) == before:
        assert loop.time() < deadline, "the broker logged no failed TLS handshake"
        await asyncio.sleep(0.2)


@pytest.mark.kafka
async def test_a_client_trusting_another_ca_refuses_the_broker(
    local: KafkaUnderTest,
    settings: Settings,
    tmp_path: Path,
    aiokafka_errors: pytest.LogCaptureFixture,
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(certificate_pem(new_ca(dt.datetime.now(dt.UTC)).certificate))
    misled = local.agency_login(settings, AGENCY).model_copy(update={"ssl_cafile": other_ca})

    await _refused(misled)

    assert (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate"
    ) in aiokafka_errors.text


@pytest.mark.kafka
async def test_a_name_the_certificate_does_not_carry_is_refused(
    local: KafkaUnderTest, settings: Settings
) -> None:
    """With the very SSL context aiokafka is given: the handshake by the listener's address
    succeeds, by any other name it fails on the client's host name check."""
    assert local.agency_bootstrap is not None
    context = security_options(local.agency_login(settings, AGENCY))["ssl_context"]
    host, port = local.agency_bootstrap.rsplit(":", 1)

    _, writer = await asyncio.open_connection(host, int(port), ssl=context)
    try:
        certificate = writer.get_extra_info("peercert")
        assert ("IP Address", "127.0.0.1") in certificate["subjectAltName"]
    finally:
        writer.close()
        await writer.wait_closed()

    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        await asyncio.open_connection(host, int(port), ssl=context, server_hostname="kafka.example")
    assert refused.value.verify_message == (
        "Hostname mismatch, certificate is not valid for 'kafka.example'."
    )


@pytest.mark.kafka
def test_the_brokers_private_keys_are_owner_only(local: KafkaUnderTest) -> None:
    assert local.ca_file is not None
    files = TlsFiles(local.ca_file.parent)
    assert (_mode(files.ca_key), _mode(files.keystore)) == (0o600, 0o600)
