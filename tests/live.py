"""The old import path of the live-server helpers, now in tests/support (servers, database,
settings). Still used by tests/sdk/, tests/test_sdk_packages.py and tests/ops/
test_{front_door,metrics_housekeeping,shutdown,slow_clients}.py; new code imports tests.support."""

from testkit.database import throwaway_database
from testkit.servers import Server, free_port, gunicorn, gunicorn_server, serve
from testkit.settings import DEFAULT_ADMIN_URL, ROOT

__all__ = [
    "DEFAULT_ADMIN_URL",
    "ROOT",
    "Server",
    "free_port",
    "gunicorn",
    "gunicorn_server",
    "serve",
    "throwaway_database",
]
