"""Verifying the audit trail in a process of its own, for the services that re-verify it.

A verification parses and hashes every record of the trail, in one pass of pure CPU that
grows with the trail: about 20 s for 1.2 million records on a 2-core machine. Run on a
service's event loop it froze the loop for that long, from the service's start on. The
chaos harness (issue 9, row 13, 100,000 notices) measured what that does to a distributor:
- no heartbeats, so the group expelled it and it claimed every partition over again;
- no embargo releases, so notices due during the verification were released up to 29 s late;
- a SIGTERM waited for the verification to end.
In a child process it takes no time from the service's loop, its memory goes when it
ends, and cancelling the verification kills the child.

The parent hands the child its settings and reads back the report, both pickled over the
child's stdin and stdout: the two are the same program, so nothing untrusted is unpickled.
"""

from __future__ import annotations

import asyncio
import pickle
import sys

from aiokafka.errors import KafkaError

from broker import audit
from broker.audit_trail import verify_topic
from broker.errors import AuditVerifyFailed, TopicMissing
from broker.settings import Settings
from broker.topics import TopicNames


async def verify_in_child(settings: Settings) -> audit.VerifyReport:
    """The hub's audit trail verified by a child process; raises ``AuditVerifyFailed`` when
    the trail could not be read or the child died."""
    topic = TopicNames(settings.topic_prefix).audit
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await child.communicate(pickle.dumps(settings))
    finally:
        if child.returncode is None:  # cancelled: the verification is not wanted any more
            child.kill()
            await child.wait()
    if child.returncode != 0:
        raise AuditVerifyFailed(topic, f"its verifying process exited with {child.returncode}")
    result: audit.VerifyReport | str = pickle.loads(out)
    if isinstance(result, str):
        raise AuditVerifyFailed(topic, result)
    return result


async def _child(settings: Settings) -> audit.VerifyReport | str:
    try:
        return await verify_topic(settings)
    except (KafkaError, TopicMissing, TimeoutError) as exc:
        return repr(exc)


def main() -> None:
    settings: Settings = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(asyncio.run(_child(settings))))


if __name__ == "__main__":
    main()
