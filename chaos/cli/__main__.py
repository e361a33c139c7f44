"""``python -m chaos.cli`` is ``llm-chaos`` too."""

import sys

from chaos.cli._main import main

sys.exit(main())
