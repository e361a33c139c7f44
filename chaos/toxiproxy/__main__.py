"""``python3 -m chaos.toxiproxy``: the embedded Toxiproxy-compatible server."""

from __future__ import annotations

import sys

from chaos.toxiproxy._server_cli import main

if __name__ == "__main__":
    sys.exit(main())
