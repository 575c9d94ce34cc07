"""``notices bench``: the hub's real services measured side by side with raw Kafka clients.

- ``payloads``: realistic inputs synthesized from the real fixture shapes, with fresh ids.
- ``clients``: the raw baselines (an aiokafka producer, a transactional pass-through, a
  confluent-kafka producer), configured like the hub's own clients.
- ``scenarios``: each scenario as a pair (raw, real) on one broker.
- ``runner``: the broker (reused or started), the order of scenarios, progress.
- ``report``: the table (rich, Markdown) and the JSON document.
- ``child``: the services run as child processes (latency, memory).
"""
