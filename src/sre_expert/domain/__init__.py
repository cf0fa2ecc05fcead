"""Domain models built from a Snapshot and shared by checks, diagnosis, lint and the renderers (for example
which namespaces Velero protects). Pure: no I/O, no findings."""
