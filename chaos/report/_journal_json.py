"""The journal as JSON for reports, with secrets redacted once more on the way out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chaos.common._journal import JournalRecord
from chaos.common._redact import redact_headers, redact_path

__all__ = ["journal_json"]


def journal_json(records: Sequence[JournalRecord]) -> str:
    """``records`` as a JSON array of :meth:`JournalRecord.to_dict` objects.

    The gateway redacts before a record exists; a report leaves the machine, so
    headers and paths go through the redaction again (it is idempotent).
    """
    data: list[dict[str, Any]] = []
    for record in sorted(records, key=lambda r: r.seq):
        item = record.to_dict()
        item["path"] = redact_path(record.path)
        item["request_headers"] = redact_headers(record.request_headers.items())
        item["response_headers"] = redact_headers(record.response_headers.items())
        data.append(item)
    return json.dumps(data, indent=2) + "\n"
