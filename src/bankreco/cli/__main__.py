"""`python -m bankreco.cli`: the `bankreco` command."""

import sys

from bankreco.cli import main

sys.exit(main())
