#!/usr/bin/env bash
# The whole pipeline on the configured database (default: embedded PostgreSQL in .matcher/):
# install, migrate, seed a small synthetic programme, train and compare models, publish
# tonight's recommendations, and print a few mentees' lists with the reasons behind them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
matcher=.venv/bin/matcher

$matcher db upgrade
$matcher seed --scale small --replace
$matcher train
$matcher score
$matcher show --mentees 3
