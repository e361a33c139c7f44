"""The resilient app's naive twin: one provider, the SDK's defaults, no fallback.

It is what many apps looked like on 2 March 2026: when Claude failed, they
failed. Its chaos tests are expected to fail, and show why.
"""

from naive_app.app import Answer, answer

__all__ = ["Answer", "answer"]
