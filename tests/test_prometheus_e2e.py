"""A real Prometheus scrapes the hub's services while notices flow through them, then every
query of the Grafana dashboard is evaluated by Prometheus and must return data.

The ingest service, the distributor (with its embargo releaser) and an agency's subscriber run
in this process, as the ``notices`` commands run them (``broker.metrics_server.serve_*``), each
with /metrics on a port of its own, against the session's real Kafka broker. Prometheus is
Debian's, started with the shipped scrape config (its targets pointed at those ports) and the
shipped alert rules. A dashboard query naming a metric no service exports returns nothing, and
fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import re
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from broker import models as m
from broker.distributor import DistributorService
from broker.embargo import EmbargoReleaser
from broker.metrics_server import serve_distributor, serve_ingest, serve_subscriber
from broker.models import NoticeEnvelope
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from consumers.guard import DeliveryGuard
from consumers.subscriber import Subscriber
from ops.processes import free_ports
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import SERDE, ingest_service, publish_payloads, running, until
from tests.test_distributor import AGENCIES, POLICY, notice, publish
from tests.test_promtool import ALERTS, CONFIG, prometheus_tool

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DASHBOARD = REPO_ROOT / "ops" / "grafana" / "dashboards" / "notice-broker.json"
EXAMPLES = REPO_ROOT / "examples" / "interpol"
JOBS = ("notices-ingest", "notices-distributor", "notices-subscriber")
FIRST_ROUND = 3 + 1
"""Notices in the first round of raw payloads, each of which agency-a receives."""
MOVING = (
    "notices_ingested_records_total",
    "notices_translated_total",
    "notices_translation_failures_total",
    "notices_delivered_total",
    "notices_received_total",
    "notices_ingest_to_delivery_seconds_bucket",
)
"""Metrics whose dashboard rate must show the test's second round of traffic."""
DASHBOARD_VARIABLES = {"$agency": ".*", "$notice_type": ".*"}
"""What Grafana sends for 'All'; $__rate_interval is set per run (see dashboard_queries)."""
# agency-a's own copy of its profile holds a lower clearance than the hub's policy gives it,
# so a SECRET notice the hub sends it is refused on arrival: a policy violation to count.
AGENCY_A_COPY = Policy(
    groups={"EU": GroupDefinition(description="EU")},
    recipients=(
        RecipientProfile(
            agency_id="agency-a", country="DE", clearance=m.Level.CONFIDENTIAL, groups=("EU",)
        ),
    ),
)


def scrape_config(folder: Path, ports: dict[str, int]) -> Path:
    """The shipped config, its jobs pointed at this test's ports, scraped every second."""
    config = yaml.safe_load(CONFIG.read_text())
    shipped = {job["job_name"] for job in config["scrape_configs"]}
    assert set(JOBS) <= shipped, "the shipped config scrapes every hub service"
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(ALERTS)]
    config["scrape_configs"] = [
        {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        for job, port in ports.items()
    ]
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def prometheus(config: Path, folder: Path) -> Iterator[str]:
    """A Prometheus server on a free port; its API's base URL."""
    [port] = free_ports(1)
    log = folder / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                prometheus_tool("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{base}/-/ready", timeout=1).status == 200:
                    break
            assert process.poll() is None, f"prometheus exited:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)
        else:
            pytest.fail(f"prometheus did not become ready:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def api(base: str, path: str, **params: str) -> Any:
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"

    def get() -> Any:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    return await asyncio.to_thread(get)


async def query(base: str, expr: str) -> list[dict[str, Any]]:
    data = await api(base, "query", query=expr)
    result: list[dict[str, Any]] = data["result"]
    return result


async def scalar(base: str, expr: str) -> float:
    result = await query(base, expr)
    return float(result[0]["value"][1]) if result else math.nan


async def until_prometheus(base: str, expr: str, ok: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not ok(await scalar(base, expr)):
        assert loop.time() < deadline, f"timed out waiting for Prometheus to see {what} ({expr})"
        await asyncio.sleep(0.5)


async def ready(port: int) -> bool:
    def get() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    return await asyncio.to_thread(get)


def dashboard_queries(rate_interval: str) -> list[str]:
    """Every PromQL expression of the dashboard, its variables set to what 'All' sends.

    The rate window is given by the caller so that it spans the whole run: a fixed window
    such as 1m lets the traffic slide out of it on a slow machine before the queries run.
    """
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {"$__rate_interval": rate_interval, **DASHBOARD_VARIABLES}
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in variables.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"a dashboard variable the test does not know: {expr}"
            exprs.append(expr)
    return exprs


def raw_payloads() -> tuple[list[bytes], list[bytes], int]:
    """INTERPOL payloads for raw.interpol in two rounds, each with a broken one and one with a
    field nobody maps (the first also with a code no table knows); the notices they hold.

    Two rounds, because Prometheus sees a counter's first value as where it starts, not as an
    increase: the second round is what the dashboard's rates show.
    """
    detail = json.loads((EXAMPLES / "red_notice_detail.json").read_text())
    warrant = {**detail["arrest_warrants"][0], "issuing_country_id": "AT,BE,BG"}
    tribunal = json.loads((EXAMPLES / "red_notice_detail_tribunal.json").read_text())
    broken = (EXAMPLES / "zz-broken-truncated.json").read_bytes()
    first = [
        (EXAMPLES / "red_notices_list_page.json").read_bytes(),
        json.dumps({**detail, "arrest_warrants": [warrant], "hair_style": "short"}).encode(),
        broken,
    ]
    second = [
        json.dumps({**tribunal, "hair_style": "long"}).encode(),
        (EXAMPLES / "yellow_notice_detail.json").read_bytes(),
        broken,
    ]
    return first, second, FIRST_ROUND + 1 + 1


def canonical_notices(now: dt.datetime) -> tuple[list[NoticeEnvelope], int]:
    """Notices published by a liaison system that runs the adapters itself: one for agency-a,
    one it is refused on arrival, one under embargo (long enough to be deferred on a busy
    machine); how many reach its sink."""
    shared = notice("eu-amber").model_copy(update={"issued_at": now})
    secret = notice("secret-eu", level=m.Level.SECRET)
    embargoed = notice("embargoed").model_copy(
        update={"not_before": now + dt.timedelta(seconds=12)}
    )
    return [shared, secret, embargoed], 2


async def test_a_real_prometheus_scrapes_the_hub_and_every_dashboard_query_returns_data(
    settings: Settings, tmp_path: Path
) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings, AGENCIES)
    started = time.monotonic()
    ports = dict(zip(JOBS, free_ports(len(JOBS)), strict=True))

    def own(job: str) -> Settings:
        return settings.model_copy(
            update={
                "metrics_port": ports[job],
                "offsets_poll_seconds": 1.0,
                "audit_verify_seconds": 2.0,
            }
        )

    ingest = ingest_service(own("notices-ingest"))
    group = f"dist-{uuid.uuid4().hex[:8]}"
    distributor = DistributorService(
        own("notices-distributor"), policy=POLICY, serde=SERDE, group_id=group
    )
    releaser = EmbargoReleaser(own("notices-distributor"), group_id=group)
    received: list[NoticeEnvelope] = []
    subscriber = Subscriber(
        own("notices-subscriber"),
        topics=[topics.deliver("agency-a")],
        group_id=f"sub-{uuid.uuid4().hex[:8]}",
        sink=received.append,
        serde=SERDE,
        guard=DeliveryGuard(AGENCY_A_COPY, "agency-a"),
    )

    with prometheus(scrape_config(tmp_path, ports), tmp_path) as base:
        async with (
            running(serve_ingest(ingest)),
            running(serve_distributor(distributor, releaser)),
            running(serve_subscriber(subscriber, agency="agency-a")),
        ):
            for job, port in ports.items():
                for _ in range(600):
                    if await ready(port):
                        break
                    await asyncio.sleep(0.1)
                else:
                    pytest.fail(f"{job} never became ready")
            await until_prometheus(base, 'sum(up{job=~"notices-.*"})', lambda v: v == 3, "up")

            first, second, expected = raw_payloads()
            await publish_payloads(settings, *first)
            await until_prometheus(
                base, "sum(notices_translation_failures_total)", lambda v: v == 1, "a failure"
            )
            await until_prometheus(
                base, "sum(notices_received_total)", lambda v: v == FIRST_ROUND, "the first round"
            )
            # Each job is scraped on its own clock: the distributor's counters must be seen
            # with the first round in them too, or its second round could land in the same
            # scrape, and a series' first sample is where it starts, not an increase.
            await until_prometheus(
                base,
                "sum(notices_delivered_total)",
                lambda v: v > 0 and v == sum(distributor.stats.deliveries.values()),
                "the first round's deliveries",
            )
            await publish_payloads(settings, *second)
            notices, reaching_a = canonical_notices(dt.datetime.now(dt.UTC))
            await publish(settings, *notices)
            expected += reaching_a
            await until(
                lambda: len(received) >= expected and subscriber.refused and releaser.released,
                f"{expected} notices at agency-a's sink, a refusal and a release",
            )

            await until_prometheus(
                base, "sum(notices_received_total)", lambda v: v >= expected, "the receipts"
            )
            await until_prometheus(base, "max(notices_dlq_depth_records)", lambda v: v == 2, "DLQ")
            await until_prometheus(
                base, "max(notices_audit_verified_records)", lambda v: v > 0, "a verification"
            )
            await until_prometheus(
                base, "count(notices_consumer_lag_records)", lambda v: v > 0, "consumer lag"
            )
            await until_prometheus(
                base,
                'count(ALERTS{alertname="PolicyViolationRefused", alertstate="firing"})',
                lambda v: v >= 1,
                "the refusal alert firing",
            )
            window = f"{math.ceil(time.monotonic() - started) + 30}s"
            results = {expr: await query(base, expr) for expr in dashboard_queries(window)}
            names = set(await api(base, "label/__name__/values"))
            agencies = set(await api(base, "label/agency/values"))
            notice_types = set(await api(base, "label/notice_type/values"))
            rules = await api(base, "rules")

    empty = [expr for expr, result in results.items() if not result]
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
    for metric in MOVING:
        values = [
            float(series["value"][1])
            for expr, result in results.items()
            if metric in expr
            for series in result
        ]
        assert any(v > 0 for v in values), f"the dashboard shows no traffic of {metric}: {values}"
    named = {name for expr in results for name in re.findall(r"\bnotices_[a-z_]+", expr)}
    assert named <= names, f"metrics no service exports: {sorted(named - names)}"
    assert {"interpol", "agency-a", "agency-b"} <= agencies
    assert {"WANTED_PERSON"} <= notice_types
    loaded = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(loaded) == 8 and all(rule["health"] == "ok" for rule in loaded), loaded
    assert {rule["name"] for rule in loaded if rule["state"] == "firing"} == {
        "PolicyViolationRefused"
    }
    assert float(results["max(notices_audit_chain_faults)"][0]["value"][1]) == 0
