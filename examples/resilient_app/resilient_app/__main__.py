"""``python -m resilient_app "question"``: ask once, print the answer and who gave it."""

from __future__ import annotations

import argparse
import json
import sys

from resilient_app.app import answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resilient_app", description=__doc__)
    parser.add_argument("question")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    args = parser.parse_args(argv)
    result = answer(args.question)
    if args.json:
        print(
            json.dumps(
                {"text": result.text, "provider": result.provider, "degraded": result.degraded}
            )
        )
    else:
        note = " (degraded)" if result.degraded else ""
        print(f"[{result.provider}{note}] {result.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
