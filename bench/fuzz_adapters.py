"""Throw mutated real payloads at every adapter and count crashes (the goal is 0).

For each installed adapter, the real sample files of its format (../shared/fixtures) are
mutated the ways hostile or broken inputs look: truncated anywhere, bytes flipped, invalid
UTF-8 injected, JSON values swapped for other types, XML text replaced with markup-breaking
garbage, deep nesting. Every input must either translate or fail with a TranslationError that
says where; anything else raised is a crash, printed with the input that caused it.

    python bench/fuzz_adapters.py [--inputs 100000] [--seed 1] [--format FMT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from adapters.base import TranslationContext
from adapters.registry import default_registry
from broker.errors import TranslationError
from broker.models import Originator

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures"
SAMPLES = {
    "interpol-notice-json": ["wanted/interpol_*.json"],
    "fbi-wanted-json": ["wanted/fbi_*.json"],
    "un-sc-consolidated-xml": ["sanctions/un_sc_*.xml"],
    "ofac-sdn-xml": ["sanctions/ofac_*.xml"],
    "ofac-consolidated-xml": ["sanctions/ofac_*.xml"],
    "eu-fsf-xml": ["sanctions/eu_fsf_*.xml"],
    "stix2-json": ["intel/stix*.json"],
    "misp-event-json": ["intel/misp_event_*.json"],
    "cap-1.2-xml": ["alerts/cap12_*"],
    # No public OFSI file is published as a sample: the project's own, built from real entries.
    "uk-ofsi-xml": [str(REPO / "tests" / "data" / "uk_ofsi_sample.xml")],
}
RECEIVED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

Mutation = Callable[[random.Random, bytes], bytes]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]) + data[at:]


def swap_json_value(rng: random.Random, data: bytes) -> bytes:
    """Replace one scalar after a colon with a value of another type."""
    colons = [i for i, b in enumerate(data) if b == ord(":")]
    if not colons:
        return truncate(rng, data)
    at = rng.choice(colons) + 1
    end = at
    while end < len(data) and data[end] not in b",}]\n":
        end += 1
    new = rng.choice(
        [b" null", b" 12", b" []", b" {}", b' "x"', b" true", b' "\\u0000"', b" -1e999"]
    )
    return data[:at] + new + data[end:]


def garble_xml_text(rng: random.Random, data: bytes) -> bytes:
    closes = [i for i, b in enumerate(data) if b == ord(">")]
    if not closes:
        return truncate(rng, data)
    at = rng.choice(closes) + 1
    junk = rng.choice(
        [b"<", b"&", b"&bogus;", b"]]>", b"\x00", b"<x>", b"</y>", b"\xef\xbf\xbf", b"9999-99-99"]
    )
    return data[:at] + junk + data[at:]


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    depth = rng.randint(100, 5000)
    if data.lstrip()[:1] in (b"{", b"["):
        return b"[" * depth + data + b"]" * depth
    at = data.find(b">", data.find(b"<", 2)) + 1
    return data[:at] + b"<a>" * depth + b"</a>" * depth + data[at:]


MUTATIONS: list[Mutation] = [
    truncate,
    flip_bytes,
    invalid_utf8,
    swap_json_value,
    garble_xml_text,
    deep_nesting,
]


def fuzz(fmt: str, samples: list[bytes], inputs: int, rng: random.Random) -> tuple[int, int, float]:
    adapter = default_registry().for_format(fmt)
    crashes = failures = 0
    started = time.perf_counter()
    for _ in range(inputs):
        data = rng.choice(MUTATIONS)(rng, rng.choice(samples))
        ctx = TranslationContext(fmt, Originator(agency_id="fuzz"), RECEIVED, data)
        try:
            list(adapter.translate(ctx))
        except TranslationError as exc:
            failures += 1
            if not exc.where:
                crashes += 1
                print(
                    f"{fmt}: TranslationError without a location on {data[:200]!r}", file=sys.stderr
                )
        except Exception as exc:  # a crash is what this script exists to find
            crashes += 1
            if crashes <= 5:
                print(f"{fmt}: CRASH {exc!r} on {data[:200]!r}", file=sys.stderr)
    return crashes, failures, time.perf_counter() - started


def _matching(pattern: str) -> list[Path]:
    if Path(pattern).is_absolute():
        return [Path(pattern)]
    return sorted(FIXTURES.glob(pattern))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per adapter")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", dest="formats", action="append", help="only this format")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    registry = default_registry()
    formats = args.formats or [f for f in registry.formats if f in SAMPLES]
    print(f"{'format':<26}{'inputs':>9}{'crashes':>9}{'refused':>9}{'inputs/s':>10}")
    total_crashes = 0
    for fmt in formats:
        samples = [p.read_bytes() for g in SAMPLES[fmt] for p in _matching(g)]
        crashes, failures, seconds = fuzz(fmt, samples, args.inputs, rng)
        total_crashes += crashes
        print(
            f"{fmt:<26}{args.inputs:>9}{crashes:>9}{failures:>9}{args.inputs / seconds:>10.0f}",
            flush=True,
        )
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
