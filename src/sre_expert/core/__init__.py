"""The core every layer shares: the Finding model, the Snapshot, the table of kinds, and small pure helpers
(label selectors, cron, timestamps, wording, the metric set). Imports nothing else of sre_expert."""
