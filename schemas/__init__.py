"""Avro schemas of the canonical notice, one named type per file, named ``<fullname>.avsc``.

That naming lets fastavro's schema repository resolve cross-file references by name. These
files are the contract with every other language and tool; the pydantic models in
``broker.models`` mirror them and a test checks the two field by field.
"""

from pathlib import Path

SCHEMA_DIR = Path(__file__).parent
ENVELOPE_SCHEMA = "noticebroker.NoticeEnvelope"
