"""A real SMTP server for the tests (aiosmtpd on localhost)."""

from __future__ import annotations

import socket
from email import message_from_bytes

from aiosmtpd.controller import Controller


class RecordingHandler:
    """Accepts mail, except for addresses told to answer 4xx (a given number of times) or 5xx."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []  # (recipient, X-WIF-Message)
        self.transient: dict[str, int] = {}
        self.permanent: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.permanent:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if self.transient.get(address, 0) > 0:
            self.transient[address] -= 1
            return "451 4.3.0 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, message["X-WIF-Message"]))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp_server():
    """(handler, controller, smtp_url) of a running server; stop the controller after use."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return handler, controller, f"smtp://127.0.0.1:{controller.port}"
