#!/usr/bin/env bash
# The whole pipeline on the configured database (default: embedded PostgreSQL in .matcher/):
# install, migrate, and show what is in the database.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
matcher=.venv/bin/matcher

$matcher db upgrade
$matcher db status
