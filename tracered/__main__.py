"""``python -m tracered`` is the ``tracered`` command."""

import sys

from tracered.cli import main

sys.exit(main())
