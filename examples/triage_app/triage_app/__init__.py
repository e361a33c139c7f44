"""Label support tickets with Claude, and never pass a cut or broken label on."""

from triage_app.app import LABELS, Triage, UnusableAnswer, triage

__all__ = ["LABELS", "Triage", "UnusableAnswer", "triage"]
