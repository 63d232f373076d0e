#!/usr/bin/env bash
# Install, then run the test suite on a real PostgreSQL: the server in
# MATCHER_TEST_DATABASE_URL when set, else the embedded one. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
