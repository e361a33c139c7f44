"""``python -m naive_app "question"``: ask once and print the answer (or crash)."""

from __future__ import annotations

import sys

from naive_app.app import answer


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print('usage: python -m naive_app "question"', file=sys.stderr)
        return 2
    print(f"[anthropic] {answer(args[0]).text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
