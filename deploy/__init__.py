"""The production topology: nginx in front of gunicorn (`make serve-proxy`)."""
