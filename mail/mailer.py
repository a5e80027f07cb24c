"""E-mail delivery: SMTP (STARTTLS or TLS) or .eml files in a folder.

Errors are classified once, by what the outbox must do next
(docs/mail-refusals.md):
- TransientDeliveryError (SMTP 4xx): retry this message later;
- PermanentDeliveryError (SMTP 5xx): `about_recipient` when the reply is about
  that recipient's address or mailbox (enhanced code 5.1.x or 5.2.x, or a
  plain 5xx to RCPT TO): failed for good; otherwise the server refused the
  message or us (policy, spam, sender), which the outbox retries and, when
  the same reply comes for several recipients in a row, takes for a block;
- MailerUnavailable (connection, TLS or login failure, and 421, the server
  closing the channel): stop the batch, every message stays pending.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from core.settings import ConfigError

EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    pass


class PermanentDeliveryError(DeliveryError):
    def __init__(self, message: str, about_recipient: bool = True):
        super().__init__(message)
        self.about_recipient = about_recipient


class MailerUnavailable(DeliveryError):
    pass


def redact_addresses(text: str) -> str:
    """SMTP replies often quote the recipient; errors are stored and logged without it."""
    return EMAIL_PATTERN.sub("[adresse]", text)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # implicit TLS (smtps://)
    starttls: bool
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL must look like smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host:465")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    use_tls = parts.scheme == "smtps"
    starttls = not use_tls and query.get("starttls", "0").lower() in ("1", "true", "yes", "on")
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if use_tls else 587 if starttls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        starttls=starttls,
        timeout=float(query.get("timeout", 30)),
    )


# RFC 3463 enhanced status code at the start of a reply's text: class.subject.detail.
_ENHANCED = re.compile(r"^\s*[245]\.(\d{1,3})\.(\d{1,3})\b")
# Addressing (5.1.x) and mailbox (5.2.x) statuses are about the recipient, except the sender's (5.1.7, 5.1.8).
_SENDER_ADDRESS = {7, 8}


def _about_recipient(text: str, stage: str) -> bool:
    enhanced = _ENHANCED.match(text)
    if enhanced is None:
        return stage == "rcpt"
    subject, detail = int(enhanced.group(1)), int(enhanced.group(2))
    return subject == 2 or (subject == 1 and detail not in _SENDER_ADDRESS)


def _classify_reply(code: int, text: str, stage: str = "other") -> DeliveryError:
    """`stage`: the command the server answered (rcpt, mail, data or other)."""
    message = f"SMTP {code}: {redact_addresses(text)}"
    if code == 421:  # "Service not available, closing transmission channel": the server, not this message
        return MailerUnavailable(message)
    if 400 <= code < 500:
        return TransientDeliveryError(message)
    return PermanentDeliveryError(message, _about_recipient(text, stage))


def _reply_text(raw) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class SmtpMailer:
    """One connection reused for a batch; reopened after a failure."""

    def __init__(self, config: SmtpConfig, ssl_context: ssl.SSLContext | None = None):
        self.config = config
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection: smtplib.SMTP
        try:
            if config.use_tls:
                connection = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=self.ssl_context
                )
            else:
                connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            if config.starttls:
                connection.starttls(context=self.ssl_context)
            if config.username:
                connection.login(config.username, config.password or "")
        except smtplib.SMTPException as error:
            raise MailerUnavailable(
                f"SMTP connection to {config.host}:{config.port} failed: {type(error).__name__}"
            ) from None
        except (OSError, ssl.SSLError) as error:
            raise MailerUnavailable(
                f"SMTP server {config.host}:{config.port} unreachable: {type(error).__name__}"
            ) from None
        return connection

    def send(self, message: EmailMessage) -> None:
        if self._connection is None:
            self._connection = self._connect()
        try:
            refused = self._connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [(code, _reply_text(text)) for code, text in error.recipients.values()]
            failure = _classify_reply(*min(codes), "rcpt")  # a 4xx among them: worth retrying
            if isinstance(failure, MailerUnavailable):
                self._drop()
            raise failure from None
        except smtplib.SMTPResponseException as error:
            stage = (
                "mail"
                if isinstance(error, smtplib.SMTPSenderRefused)
                else "data"
                if isinstance(error, smtplib.SMTPDataError)
                else "other"
            )
            failure = _classify_reply(error.smtp_code, _reply_text(error.smtp_error), stage)
            if isinstance(failure, MailerUnavailable):
                self._drop()  # the server closes the channel after a 421
            else:
                self._reset_after_error()
            raise failure from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise MailerUnavailable(f"SMTP connection lost: {type(error).__name__}") from None
        if refused:  # only when some of several recipients were refused; we send to one
            code, text = min(refused.values())
            raise _classify_reply(code, _reply_text(text), "rcpt")

    def _reset_after_error(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        try:
            if self._connection is not None:
                self._connection.close()
        finally:
            self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


class FolderMailer:
    """The embedded default: each message becomes an .eml file, written atomically."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        token = re.sub(r"[^\w.-]", "_", str(message["Message-ID"] or "message").strip("<>"))
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(bytes(message))
        os.replace(temporary, self.folder / f"{token}.eml")

    def close(self) -> None:
        pass


def make_mailer(smtp_url: str, outbox_dir: Path) -> Mailer:
    return SmtpMailer(parse_smtp_url(smtp_url)) if smtp_url else FolderMailer(outbox_dir)


def build_email(*, sender: str, to: str, subject: str, text: str, html: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # Deterministic: if a crash makes us send twice, mail clients can fold the copies.
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
