"""`sre-expert serve`: an Alertmanager webhook that investigates each alert group, with an API and pages.

Layout: `store` (SQLite: alerts, investigations, notification outbox), `investigate` (pure: alert group +
diagnosis report → root cause and causal chain), `worker` (bounded pool, cached snapshot and diagnosis),
`notify` (Slack / generic webhook with retries), `app` (FastAPI endpoints), `metrics`, `auth`.
Nothing here is imported by `sre-expert --help`; fastapi and uvicorn load only inside `serve`.
"""
