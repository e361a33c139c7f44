"""``python -m streaming_app "question"``: stream the answer to the terminal."""

from __future__ import annotations

import argparse
import sys

from streaming_app.app import IncompleteAnswer, StreamingAssistant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="streaming_app", description=__doc__)
    parser.add_argument("question")
    args = parser.parse_args(argv)
    try:
        StreamingAssistant().stream(args.question, on_text=lambda t: print(t, end="", flush=True))
    except IncompleteAnswer as exc:
        print(f"\n[incomplete answer: {exc}]", file=sys.stderr)
        return 1
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
