"""``python -m chaos`` is ``llm-chaos``."""

import sys

from chaos.cli import main

sys.exit(main())
