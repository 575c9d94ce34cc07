"""The chaos harness (issue 9): the hub's real services as processes, real brokers, faults.

``workload`` makes the notices and poison, ``oracle`` says what each recipient must get,
``services`` and ``brokers`` are what the faults hit, ``rows`` are the faults, ``run`` runs one
row, ``observe`` reads what happened and ``tally`` judges it.
"""
