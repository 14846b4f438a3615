#!/usr/bin/env bash
# Until the first release the schema lives in one migration, regenerated from the models.
# Run after changing a model: it autogenerates migrations/versions/0001_initial_schema.py
# against an empty throw-away SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial_schema.py
TRACKER_INSTANCE_PATH="$tmp" DATABASE_URL="sqlite:///$tmp/empty.db" \
  .venv/bin/flask --app app db migrate -m "initial schema" --rev-id 0001 >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
.venv/bin/ruff format -q migrations/versions/0001_initial_schema.py || true
echo "migrations/versions/0001_initial_schema.py regenerated"
