"""`python -m helpers <command>`: the command line lives in helpers.build.cli."""

import sys

from helpers.build.cli import main

sys.exit(main())
