"""The platform knowledge as data (YAML next to this file) and the loaders that read it: the check catalogue,
the alert catalogue, the platform components, models, redaction patterns, RTO/RPO objectives, runbooks."""
