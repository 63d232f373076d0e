#!/usr/bin/env python
"""Admin: retrain from feedback and promote the challenger only if it is better.

The same as `matcher retrain` (run with --help for every option), for cron lines and admins
who look for a script:

    .venv/bin/python scripts/retrain_from_feedback.py --dry-run
"""

import sys

from matcher.cli import main

if __name__ == "__main__":
    sys.argv = ["matcher", "retrain", *sys.argv[1:]]
    main()
