"""Removing ACL bindings (``ops.acls.remove_acls``), as the chaos harness's row 14 does to take
a permission away mid-run and give it back: exactly the bindings named go, the others stay."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from broker.access import DISTRIBUTOR, AclBinding, Operation, Pattern, Resource, principal
from ops.acls import apply_acls, listed_acls, remove_acls
from tests.conftest import KafkaUnderTest


@pytest.mark.kafka
async def test_removing_a_binding_leaves_the_others(kafka_under_test: KafkaUnderTest) -> None:
    if not kafka_under_test.passwords:
        pytest.skip("the cluster under test does not authenticate clients")
    hub = kafka_under_test.hub
    deliver = f"acl-{uuid.uuid4().hex[:8]}.deliver."
    user = principal(DISTRIBUTOR)
    every = AclBinding(user, Resource.TOPIC, deliver, Operation.WRITE, Pattern.PREFIXED)
    one = AclBinding(user, Resource.TOPIC, f"{deliver}de-bka", Operation.WRITE)
    await asyncio.to_thread(apply_acls, hub, [every, one])

    await asyncio.to_thread(remove_acls, hub, [every])

    listed = await asyncio.to_thread(listed_acls, hub)
    assert one in listed
    assert every not in listed
    await asyncio.to_thread(remove_acls, hub, [one])
    await asyncio.to_thread(remove_acls, hub, [one])  # gone already: no error
    assert one not in await asyncio.to_thread(listed_acls, hub)
