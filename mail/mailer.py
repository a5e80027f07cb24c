"""E-mail delivery: SMTP (STARTTLS or TLS) or .eml files in a folder.

Errors are classified once, by what the outbox must do next:
- TransientDeliveryError (SMTP 4xx): retry this message later;
- PermanentDeliveryError (SMTP 5xx): record it as failed, never retry;
- MailerUnavailable (connection, TLS or login failure): stop the batch,
  every message stays pending.
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
    pass


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


def _classify_reply(code: int, text: str) -> DeliveryError:
    message = f"SMTP {code}: {redact_addresses(text)}"
    return TransientDeliveryError(message) if 400 <= code < 500 else PermanentDeliveryError(message)


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
        try:
            if config.use_tls:
                connection = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=self.ssl_context)
            else:
                connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            if config.starttls:
                connection.starttls(context=self.ssl_context)
            if config.username:
                connection.login(config.username, config.password or "")
        except smtplib.SMTPException as error:
            raise MailerUnavailable(f"SMTP connection to {config.host}:{config.port} failed: {type(error).__name__}") from None
        except (OSError, ssl.SSLError) as error:
            raise MailerUnavailable(f"SMTP server {config.host}:{config.port} unreachable: {type(error).__name__}") from None
        return connection

    def send(self, message: EmailMessage) -> None:
        if self._connection is None:
            self._connection = self._connect()
        try:
            refused = self._connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [(code, _reply_text(text)) for code, text in error.recipients.values()]
            raise _classify_reply(*min(codes)) from None  # a 4xx among them: worth retrying
        except smtplib.SMTPResponseException as error:
            self._reset_after_error()
            raise _classify_reply(error.smtp_code, _reply_text(error.smtp_error)) from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise MailerUnavailable(f"SMTP connection lost: {type(error).__name__}") from None
        if refused:  # only when some of several recipients were refused; we send to one
            code, text = min(refused.values())
            raise _classify_reply(code, _reply_text(text))

    def _reset_after_error(self) -> None:
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
