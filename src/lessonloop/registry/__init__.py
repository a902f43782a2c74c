"""The model registry: artifacts, the status machine with its human gate, and exports.

- ``artifacts``: config.json + skops state, content-hashed; loading verifies and never runs code.
- ``lifecycle``: candidate → shadow → approved → champion → retired (+ rejected), approvals,
  atomic promotion and rollback.
- ``rules_export`` / ``alertmanager_export``: Prometheus rules and Alertmanager configuration.
- ``shadow``: where two versions' learned rules would decide differently on a series.
- ``promtool_tests``: promtool unit-test files proving an exported rule's behaviour.
- ``mlflow_mirror``: optional MLflow mirror (the ``mlflow`` extra).
"""
