"""``python -m ferronet``: the command line (see ``ferronet.cli``)."""

import sys

from ferronet.cli import main

sys.exit(main())
