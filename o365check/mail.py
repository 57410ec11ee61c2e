"""The test message and its Graph ``sendMail`` payload. No I/O.

Shape per reference §4.1 (G-SEND): ``{"message": {...}, "saveToSentItems": true}``. The content is
stable (no timestamp) so that a recorded exchange replays with the same body.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEST_SUBJECT", "build_test_message"]

TEST_SUBJECT = "o365check test message"


def build_test_message(sender: str, to: str | list[str], *, subject: str = TEST_SUBJECT) -> dict[str, Any]:
    """The Graph payload of the test e-mail from ``sender`` to ``to`` (one or more addresses).

    Saved to Sent Items, so the sender can check it went out (and look there after an ambiguous failure).
    """
    recipients = [to] if isinstance(to, str) else list(to)
    return {
        "message": {
            "subject": subject,
            "body": {
                "contentType": "Text",
                "content": (
                    f"This message was sent by o365check to test that the app can send mail as {sender} "
                    "through Microsoft Graph (client-credentials flow). No action is needed."
                ),
            },
            # One emailAddress object per recipient: "a@x; b@y" in one address is rejected (reference §4.3).
            "toRecipients": [{"emailAddress": {"address": address}} for address in recipients],
        },
        "saveToSentItems": True,
    }
