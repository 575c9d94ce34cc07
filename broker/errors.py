"""Every error the broker raises on purpose, in one tree.

    NoticeBrokerError
    ├── TranslationError          an adapter could not turn raw bytes into notices
    │   ├── UnsupportedFormat     no adapter is registered for the format header
    │   ├── UnknownMarking        a sharing marking no equivalence table knows
    │   └── OriginatorMismatch    a raw record claims another agency than its raw topic's
    ├── AdapterLoadError          an adapter's entry point could not be loaded
    ├── WireFormatError           bytes on a topic are not a notice we can decode
    │   ├── MalformedMessage      in neither framing, or a datum that does not parse
    │   ├── UnknownSchema         the writer schema's fingerprint is not in the catalog
    │   ├── UnknownSchemaId       the registry has no schema of that id, or could not be asked
    │   └── UndecodableNotice     any of those, located at a topic/partition/offset
    ├── SchemaRegistryError       the schema registry did not do what a producer asked
    │   ├── RegistryUnavailable   no answer (down, refused, timed out): nothing is published
    │   └── RegistryRefused       an error answer other than incompatibility (auth, bad schema)
    ├── IncompatibleSchema        a schema change readers of earlier versions could not follow
    ├── SinkError                 a subscriber's sink refused a notice
    ├── InvalidAgencyId           an agency id that cannot safely name a principal and its ACLs
    ├── AccessAdminError          the cluster refused or did not confirm a user or ACL change
    ├── PolicyError               a sharing-policy file is unreadable or inconsistent
    ├── PolicyViolation           a consumer received a notice its own profile does not allow
    ├── OriginatorControlled      re-publishing an originator-controlled notice (third-party rule)
    ├── TopicMissing              a topic a service reads (state, dead letters) does not exist
    ├── AuditVerifyFailed         the audit trail could not be read, or its verifier died
    ├── LocalKafkaError           the local Apache Kafka broker could not be fetched or run
    │   ├── KafkaFetchError       Maven could not fetch the broker jars
    │   ├── BrokerStartError      the broker did not come up; carries its own log lines
    │   └── TlsMaterialError      the local CA or the broker's certificate is unusable
    ├── LocalRegistryError        the local Apicurio Registry could not be fetched or run
    │   └── RegistryStartError    it did not come up; carries its own log lines
    ├── ProxyError                the loopback fault proxy could not listen or was misused
    └── ChaosError                the chaos harness could not set up or drive a run

Each error says *what* was wrong and *where* (a JSON path, a topic/partition/offset, a
fingerprint), builds its message from those fields, and keeps the input that caused it so the
service loop can route it to the dead-letter topic untouched. ``retriable`` tells the loop
whether trying the same input again could succeed; a translation error never can.
"""

from __future__ import annotations

from aiokafka.errors import KafkaError


class NoticeBrokerError(Exception):
    """Root of the tree; catching it catches every deliberate failure of the broker."""

    retriable: bool = False


class TranslationError(NoticeBrokerError):
    """An adapter failed on one raw payload.

    ``where`` is a location inside the payload (a JSON path such as ``$.entity_id``, an XPath,
    or a line number) and ``reason`` says what was wrong there.
    """

    def __init__(self, *, format: str, where: str, reason: str) -> None:
        self.format = format
        self.where = where
        self.reason = reason
        super().__init__(f"{format}: at {where}: {reason}")


class UnsupportedFormat(TranslationError):
    """The raw record names a format no adapter handles (or names none)."""

    def __init__(self, *, format: str, known: tuple[str, ...]) -> None:
        self.known = known
        super().__init__(
            format=format or "<missing>",
            where="header 'format'",
            reason=f"no adapter for this format; known formats: {', '.join(known) or 'none'}",
        )


class UnknownMarking(TranslationError):
    """A marking (national classification, TLP label, distribution code) nobody mapped.

    Never guessed downward: a marking read as lower than it is would leak the notice, so the
    record goes to the dead-letter topic with the marking's text until a table learns it.
    """

    def __init__(self, *, format: str, where: str, marking: str, scheme: str) -> None:
        self.marking = marking
        self.scheme = scheme
        reason = f"unknown marking: {scheme} {marking!r}"
        super().__init__(format=format, where=where, reason=reason)


class AdapterLoadError(NoticeBrokerError):
    """An installed adapter failed to load (import error, broken mapping table)."""

    def __init__(self, *, entry_point: str, cause: Exception) -> None:
        self.entry_point = entry_point
        self.cause = cause
        super().__init__(f"adapter entry point {entry_point!r} failed to load: {cause}")


class WireFormatError(NoticeBrokerError):
    """Bytes read from a notices topic could not be decoded into a notice; ``data`` holds them."""

    def __init__(self, message: str, *, data: bytes) -> None:
        self.data = data
        super().__init__(message)


class MalformedMessage(WireFormatError):
    def __init__(self, reason: str, *, data: bytes) -> None:
        self.reason = reason
        super().__init__(f"malformed notice message ({len(data)} bytes): {reason}", data=data)


class UnknownSchema(WireFormatError):
    """A message was written with a schema this reader has never seen.

    Not retriable by itself: it becomes decodable only once the catalog learns the schema.
    """

    def __init__(self, fingerprint: bytes, *, data: bytes) -> None:
        self.fingerprint = fingerprint
        super().__init__(
            f"unknown writer schema: CRC-64-AVRO fingerprint {fingerprint.hex()} is not in the "
            "schema catalog",
            data=data,
        )


class UnknownSchemaId(WireFormatError):
    """A message in the Confluent wire format names a schema id this reader cannot resolve.

    ``reason`` says why: the registry answered that it has no such id (not retriable: the
    bytes were written against another registry, or are corrupt), or the registry could not
    be asked (retriable: the same bytes decode once it answers again), or none is configured.
    """

    def __init__(self, schema_id: int, *, reason: str, retriable: bool, data: bytes) -> None:
        self.schema_id = schema_id
        self.reason = reason
        self.retriable = retriable
        super().__init__(
            f"unknown writer schema: registry schema id {schema_id}: {reason}", data=data
        )


class UndecodableNotice(WireFormatError):
    """A subscriber met a record it cannot decode.

    It stops there, uncommitted, rather than skip: a notice a reader cannot decode is a notice
    lost to that reader. ``cause`` holds the bytes; the record is read again after a fix.
    """

    def __init__(self, *, topic: str, partition: int, offset: int, cause: WireFormatError) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.cause = cause
        super().__init__(f"{topic}[{partition}]@{offset}: {cause}", data=cause.data)


class SchemaRegistryError(NoticeBrokerError):
    """The schema registry at ``url`` could not serve ``request`` (a method and a path).

    A producer that meets it publishes nothing: a notice is never sent unframed, or framed
    with an id the registry did not give.
    """

    def __init__(self, *, url: str, request: str, reason: str) -> None:
        self.url = url
        self.request = request
        self.reason = reason
        super().__init__(f"schema registry {url}: {request}: {reason}")


class RegistryUnavailable(SchemaRegistryError):
    """No answer at all: connection refused, name not resolved, timed out."""

    retriable = True


class RegistryRefused(SchemaRegistryError):
    """An error answer: ``status`` and the registry's own ``error_code`` and message.

    Not retriable by itself: a refused login, a schema the registry cannot parse or a server
    fault are fixed by someone, not by asking again at once.
    """

    def __init__(
        self, *, url: str, request: str, status: int, error_code: int | None, message: str
    ) -> None:
        self.status = status
        self.error_code = error_code
        code = f" (error_code {error_code})" if error_code is not None else ""
        super().__init__(url=url, request=request, reason=f"HTTP {status}{code}: {message}")


class IncompatibleSchema(NoticeBrokerError):
    """A schema that readers of an earlier version, or readers already on it, could not follow.

    ``against`` names what it was checked against (a registry subject, a released version) and
    ``reasons`` are the checker's own words: the registry's message, or one line per
    incompatible place from ``notices schemas check``.
    """

    def __init__(self, *, against: str, reasons: tuple[str, ...]) -> None:
        self.against = against
        self.reasons = reasons
        super().__init__(f"schema incompatible with {against}: " + "; ".join(reasons))


class SinkError(NoticeBrokerError):
    """The subscriber's sink raised; the notice stays uncommitted and will be read again."""

    retriable = True

    def __init__(self, *, topic: str, partition: int, offset: int, notice_id: str) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.notice_id = notice_id
        super().__init__(
            f"sink failed on notice {notice_id} at {topic}[{partition}]@{offset}; "
            "offset not committed"
        )


class PolicyError(NoticeBrokerError):
    """A sharing-policy file cannot be used, so no distributor may start on it.

    ``problems`` pairs each faulty entry (``recipients[3] (uk-nca)``, ``groups.EU``,
    ``line 12, column 3``) with what is wrong there, every one found in the file at once so an
    operator fixes them in one pass. The message has one ``file: entry: problem`` line each,
    the form editors and ``grep`` understand.
    """

    def __init__(self, *, file: str, problems: tuple[tuple[str, str], ...]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(f"{file}: {entry}: {problem}" for entry, problem in problems))


class InvalidAgencyId(NoticeBrokerError):
    """An agency id becomes a principal (``User:<id>``), topic names and a group id verbatim.

    Ids are held to the raw-topic alphabet so that none can smuggle a separator into a SCRAM
    credential spec or server.properties, and none can take the hub's own principal.
    """

    def __init__(self, agency_id: str, reason: str) -> None:
        self.agency_id = agency_id
        self.reason = reason
        super().__init__(f"agency id {agency_id!r}: {reason}")


class AccessAdminError(NoticeBrokerError):
    """A SCRAM user or ACL change failed, or the broker did not apply it in time.

    Raised in place of confluent-kafka's own exceptions, so the CLI reports it in one line.
    """


class PolicyViolation(NoticeBrokerError):
    """A delivered notice fails the receiving agency's own re-check (defence in depth).

    The consumer refuses it and counts it; the hub's distributor or its policy is at fault.
    """

    def __init__(
        self, *, agency: str, notice_id: str, version: int, rules: tuple[str, ...]
    ) -> None:
        self.agency = agency
        self.notice_id = notice_id
        self.version = version
        self.rules = rules
        super().__init__(
            f"{agency} refused notice {notice_id} v{version}: its own profile does not allow it "
            f"({', '.join(rules) or 'no rule granted it'})"
        )


class OriginatorControlled(NoticeBrokerError):
    """The third-party rule: an originator-controlled notice is not re-published by anyone."""

    def __init__(self, *, notice_id: str, originator: str) -> None:
        self.notice_id = notice_id
        self.originator = originator
        super().__init__(
            f"notice {notice_id} is originator-controlled by {originator}: it may not be "
            "re-published; ask the originator to release it"
        )


class TopicMissing(NoticeBrokerError):
    def __init__(self, topic: str) -> None:
        self.topic = topic
        super().__init__(
            f"topic {topic} does not exist; create the hub's topics first (`notices topics create`)"
        )


class AuditVerifyFailed(NoticeBrokerError):
    def __init__(self, topic: str, reason: str) -> None:
        self.topic = topic
        self.reason = reason
        super().__init__(f"could not verify the audit trail {topic}: {reason}")


class LocalKafkaError(NoticeBrokerError):
    """The local Apache Kafka broker (ops/) could not be fetched, started or stopped."""


class KafkaFetchError(LocalKafkaError):
    def __init__(self, version: str, output: str) -> None:
        self.version = version
        self.output = output
        super().__init__(
            f"Maven could not fetch Apache Kafka {version} from Maven Central:\n{output}"
        )


class BrokerStartError(LocalKafkaError):
    """The broker process exited or never answered; ``log_lines`` are its own last words."""

    def __init__(self, reason: str, *, log_lines: list[str]) -> None:
        self.reason = reason
        self.log_lines = log_lines
        tail = "\n".join(log_lines) if log_lines else "(the broker wrote no log)"
        super().__init__(
            f"local Kafka broker failed to start: {reason}\n--- broker log ---\n{tail}"
        )


class TlsMaterialError(LocalKafkaError):
    """The local CA or the broker's certificate (ops/tls.py) could not be read, made or written.

    ``path`` is the file (or folder) concerned; nothing is overwritten to get past it, since a
    CA replaced behind the agencies' backs would fail every client that trusts the old one.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"TLS material {path}: {reason}")


class LocalRegistryError(NoticeBrokerError):
    """The local Apicurio Registry (ops/registry.py) could not be fetched, started or stopped."""


class RegistryStartError(LocalRegistryError):
    """The registry process exited or never answered; ``log_lines`` are its own last words."""

    def __init__(self, reason: str, *, log_lines: list[str]) -> None:
        self.reason = reason
        self.log_lines = log_lines
        tail = "\n".join(log_lines) if log_lines else "(the registry wrote no log)"
        super().__init__(
            f"local schema registry failed to start: {reason}\n--- registry log ---\n{tail}"
        )


class TransactionFailed(KafkaError):  # type: ignore[misc]
    """A send into a transaction the broker has already failed, for a refusal of an earlier
    send of the same transaction (a topic the service may not write, say).

    aiokafka raises ``IllegalOperation``, which is not a ``KafkaError``, for a send after the
    failure, and a bare ``AssertionError`` for one the failure overtakes; this typed Kafka
    error takes the place of both, so the transaction is aborted and its batch rewound like any
    failed one. Found by the chaos harness (issue 9, row 14, at 100,000 notices), where it
    killed the distributor."""

    def __init__(self, topic: str, partition: int) -> None:
        super().__init__(
            f"sending to {topic}[{partition}]: the transaction had already failed on an "
            "earlier send"
        )
        self.topic = topic
        self.partition = partition


class ChaosError(NoticeBrokerError):
    """The chaos harness could not set up or drive a run (not a finding about the hub)."""


class OriginatorMismatch(TranslationError):
    """A raw record's ``originator`` header names another agency than the one whose raw topic
    carried it.

    Only the topic is vouched for (only that agency may write it), so the claim is either a
    misconfigured liaison system or one agency speaking for another: refused, never corrected
    to either agency, and dead-lettered with the bytes as evidence.
    """

    def __init__(self, *, format: str, claimed: str, actual: str, topic: str) -> None:
        self.claimed = claimed
        self.actual = actual
        self.topic = topic
        super().__init__(
            format=format,
            where="header 'originator'",
            reason=f"claims originator {claimed!r}, but arrived on {topic}, the raw topic of "
            f"{actual!r}",
        )


class ProxyError(NoticeBrokerError):
    """The fault-injecting TCP proxy (ops/tcp_proxy.py) in front of ``target`` could not do
    what the harness asked: listen, or switch to a mode it cannot take."""

    def __init__(self, target: tuple[str, int], reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"TCP proxy to {target[0]}:{target[1]}: {reason}")
