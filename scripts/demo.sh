#!/usr/bin/env bash
# The whole pipeline on the configured database (default: embedded PostgreSQL in .matcher/):
# install, migrate, seed a small synthetic programme, and show what is in the database.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
matcher=.venv/bin/matcher

$matcher db upgrade
$matcher seed --scale small --replace
$matcher db status
