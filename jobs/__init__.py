"""Background work: the outbox relay, notification delivery and fan-out, scheduled purges.

With a broker (`CELERY_BROKER_URL`) it runs on Celery workers (`make worker`); without one,
a thread of the web process does the same work in-process (`make run`).
"""
