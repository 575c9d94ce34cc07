"""The local certificate authority and the broker's certificate for the agency listener.

Agencies reach the hub across networks, so their listener is SASL_SSL and they verify the
broker's certificate against a CA they were given. For the local broker and docker-compose
that CA is made here, at set-up, per broker data folder: nothing is committed, no private key
ever leaves the folder (mode 0600), and a restart on the same folder keeps the CA, so the
``ca.pem`` an agency was handed stays valid. The broker's certificate is re-issued by the same
CA only when it no longer serves (a host name it lacks, close to expiry).

Making keys and certificates is pure (:func:`new_ca`, :func:`new_broker_certificate`,
:func:`serves`); :func:`ensure_tls` is the edge that reads and writes the files. Kafka reads
them as PEM stores: ``broker.pem`` holds the broker's PKCS#8 key and its certificate
(``ssl.keystore.type=PEM``), ``ca.pem`` the CA certificate (``ssl.truststore.type=PEM``, and
the ``ssl_cafile`` of every agency client)::

    python -m ops.tls FOLDER [--host kafka ...]   # what docker-compose's `tls` service runs
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.errors import TlsMaterialError

DEFAULT_HOSTS = ("127.0.0.1", "localhost")
"""Every broker certificate names these: the local broker listens on the loopback."""

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
KEYSTORE_FILE = "broker.pem"

CA_VALIDITY = dt.timedelta(days=3650)
BROKER_VALIDITY = dt.timedelta(days=397)
RENEW_BEFORE = dt.timedelta(days=30)
"""A broker certificate with less left than this is re-issued at the next start."""
_CLOCK_SKEW = dt.timedelta(minutes=5)
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Issued:
    """A private key and the certificate for it."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class TlsFiles:
    """Where one broker's TLS material lies."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / CA_FILE

    @property
    def ca_key(self) -> Path:
        return self.folder / CA_KEY_FILE

    @property
    def keystore(self) -> Path:
        return self.folder / KEYSTORE_FILE


def _new_key() -> ec.EllipticCurvePrivateKey:
    """P-256: quick to make, and read by Kafka's PEM store, Python's ssl and librdkafka."""
    return ec.generate_private_key(ec.SECP256R1())


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_NAME.match(host):
        raise TlsMaterialError(
            "subjectAltName", f"{host!r} is neither an IP address nor a DNS name"
        )
    return x509.DNSName(host.lower())


def _hosts(extra: Iterable[str]) -> list[str]:
    """The default hosts and ``extra``, each once, in order."""
    return list(dict.fromkeys([*DEFAULT_HOSTS, *extra]))


def new_ca(now: dt.datetime, *, name: str = "notice-broker local CA") -> Issued:
    """A self-signed CA that may sign end-entity certificates only (path length 0)."""
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, certificate)


def new_broker_certificate(ca: Issued, hosts: Iterable[str], now: dt.datetime) -> Issued:
    """A server certificate signed by ``ca`` for the default hosts and ``hosts``.

    Clients check the name they connected by against the subjectAltName, so it must list every
    name or address agencies use to reach the broker.
    """
    names = _hosts(hosts)
    key = _new_key()
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + BROKER_VALIDITY, ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_host_name(host) for host in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key, certificate)


def subject_alt_names(certificate: x509.Certificate) -> set[str]:
    """The host names and addresses ``certificate`` is valid for, as strings."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set()
    names = extension.value
    return {*names.get_values_for_type(x509.DNSName)} | {
        str(address) for address in names.get_values_for_type(x509.IPAddress)
    }


def is_current(certificate: x509.Certificate, now: dt.datetime, *, margin: dt.timedelta) -> bool:
    """Valid now and for ``margin`` more."""
    return certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc - margin


def serves(
    broker: x509.Certificate, ca: x509.Certificate, hosts: Iterable[str], now: dt.datetime
) -> bool:
    """Whether ``broker`` can go on serving: issued by ``ca``, naming every host, not expiring
    within :data:`RENEW_BEFORE`."""
    try:
        broker.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    wanted = {str(_host_name(host).value).lower() for host in _hosts(hosts)}
    named = {name.lower() for name in subject_alt_names(broker)}
    return wanted <= named and is_current(broker, now, margin=RENEW_BEFORE)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8, the form Kafka's PEM keystore reads without ``ssl.key.password``;
    the file's mode is what protects it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def keystore_pem(broker: Issued) -> bytes:
    """The broker's key, then its certificate: one file for ``ssl.keystore.location``. The CA
    is left out of the chain sent, since a client must already hold it to trust it."""
    return key_pem(broker.key) + certificate_pem(broker.certificate)


def _parse(path: Path) -> tuple[ec.EllipticCurvePrivateKey | None, list[x509.Certificate]]:
    """The private key (if any) and the certificates of a PEM file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsMaterialError(str(path), f"cannot be read: {exc.strerror}") from exc
    try:
        certificates = x509.load_pem_x509_certificates(data) if b"CERTIFICATE" in data else []
        key = None
        if b"PRIVATE KEY" in data:
            loaded = serialization.load_pem_private_key(data, password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise TlsMaterialError(str(path), f"holds a {type(loaded).__name__}, not an EC key")
            key = loaded
    except ValueError as exc:
        raise TlsMaterialError(str(path), f"is not readable PEM: {exc}") from exc
    return key, certificates


def _read_ca(files: TlsFiles) -> Issued:
    for path in (files.ca_cert, files.ca_key):
        if not path.exists():
            raise TlsMaterialError(
                str(path),
                "is missing beside the rest of the CA; agencies may trust that CA, so restore "
                "the file, or delete the folder to make a new CA",
            )
    key, _ = _parse(files.ca_key)
    _, certificates = _parse(files.ca_cert)
    if key is None:
        raise TlsMaterialError(str(files.ca_key), "holds no private key")
    if not certificates:
        raise TlsMaterialError(str(files.ca_cert), "holds no certificate")
    certificate = certificates[0]
    if certificate.public_key() != key.public_key():
        raise TlsMaterialError(
            str(files.ca_key), f"is not the key of the CA certificate {files.ca_cert}"
        )
    return Issued(key, certificate)


def _read_broker_certificate(files: TlsFiles) -> x509.Certificate | None:
    """The keystore's certificate if it holds a key that matches it; else none (re-issue)."""
    if not files.keystore.exists():
        return None
    key, certificates = _parse(files.keystore)
    if key is None or not certificates or certificates[0].public_key() != key.public_key():
        return None
    return certificates[0]


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically, so a broker never reads half a keystore, and with ``mode`` from the start,
    so a private key is never readable by others even for a moment."""
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
        partial.replace(path)
    except OSError as exc:
        raise TlsMaterialError(str(path), f"cannot be written: {exc.strerror}") from exc


def ensure_tls(
    folder: Path, hosts: Sequence[str] = (), *, now: dt.datetime | None = None
) -> TlsFiles:
    """The CA and broker certificate in ``folder``: those already there where they still
    serve, new ones where not.

    A CA with a certificate but no key (or the reverse) is an error, not a reason to make a new
    CA: agencies trust the old one. An expired CA is replaced, with a new broker certificate.
    """
    now = now or dt.datetime.now(dt.UTC)
    files = TlsFiles(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise TlsMaterialError(str(folder), f"cannot be created: {exc.strerror}") from exc
    if files.ca_cert.exists() or files.ca_key.exists():
        ca = _read_ca(files)
        broker = _read_broker_certificate(files)
    else:
        ca, broker = None, None
    if ca is None or not is_current(ca.certificate, now, margin=dt.timedelta(0)):
        ca, broker = new_ca(now), None
        _write(files.ca_key, key_pem(ca.key), 0o600)
        _write(files.ca_cert, certificate_pem(ca.certificate), 0o644)
    if broker is None or not serves(broker, ca.certificate, hosts, now):
        issued = new_broker_certificate(ca, hosts, now)
        _write(files.keystore, keystore_pem(issued), 0o600)
    return files


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ops.tls",
        description="Make (or keep) a local CA and a broker certificate in FOLDER.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--host",
        action="append",
        default=[],
        help=f"a name the broker is reached by, besides {', '.join(DEFAULT_HOSTS)} (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        files = ensure_tls(args.folder, args.host)
    except TlsMaterialError as exc:
        sys.exit(f"error: {exc}")
    print(f"CA certificate: {files.ca_cert}\nbroker keystore: {files.keystore}")


if __name__ == "__main__":
    main()
