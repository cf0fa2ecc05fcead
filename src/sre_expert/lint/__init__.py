"""`sre-expert lint`: a GitOps repository checked against the platform's rules, and against a cluster.

repo (read YAML with lines) -> rule modules by area (pure functions of the repo) -> LintFinding
(a Finding with file and line) -> the same report renderings and exit codes as `check`.
"""
