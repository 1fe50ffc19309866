#!/usr/bin/env sh
# Prepare the database, then (if given) exec the server command:
#   prestart.sh                         wait for DATABASE_URL, alembic upgrade head
#   prestart.sh python -m costguard_backend
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
python -m costguard_backend.backend_pre_start
alembic -c "$here/alembic.ini" upgrade head
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
