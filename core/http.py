"""What every HTTP answer of ours carries, whoever makes it: the app (api/pipeline/headers.py),
gunicorn's own refusals (deploy/gunicorn_worker.py) and nginx's (deploy/nginx.py)."""

from __future__ import annotations

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", API_CSP),
)
