#!/bin/sh
# The container image's command (Containerfile): one image, a role per command.
#   conduit web       gunicorn on $HOST:$PORT; extra arguments go to gunicorn
#   conduit worker    Celery worker with beat embedded (`make worker`), on $CELERY_BROKER_URL
#   conduit migrate   alembic upgrade head on $DATABASE_URL, then exit
#   conduit health    exit 0 when the web role answers GET /api/health (the HEALTHCHECK)
#   conduit <cmd>     runs <cmd> (e.g. `conduit python -m ...`)
# The only place the image names gunicorn's config.
set -eu
role="${1:-web}"
[ $# -gt 0 ] && shift
case "$role" in
  web)
    exec gunicorn -c python:deploy.gunicorn_conf \
      --log-config-json /etc/conduit/gunicorn-logging.json "$@" api.wsgi:app ;;
  worker)
    exec celery --quiet -A runtime.worker worker -B \
      --schedule "${BEAT_SCHEDULE:-/tmp/celerybeat-schedule}" \
      --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  migrate)
    exec python -m db.migrate "$@" ;;
  health)
    exec python -c 'import os, urllib.request as r
r.urlopen("http://127.0.0.1:%s/api/health" % os.environ.get("PORT", "8000"), timeout=2)' ;;
  *)
    exec "$role" "$@" ;;
esac
