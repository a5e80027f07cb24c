"""Files as DS hands them out (docs/ds-files.md): every URL is signed and expires after an hour.

`File` objects point to `GET /files/<signed key>/<filename>`; a dossier's PDF and GeoJSON to
`GET /api/v2/dossiers/(pdf|geojson)/<signed id>`, which need no token. A URL whose signature or
lifetime fails is refused. Uploads follow ActiveStorage's direct upload: `createDirectUpload` gives
a `PUT /rails/active_storage/disk/<signed key>` URL and the headers to send; the blob's signed id is
then named as a message attachment or a decision's justificatif.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

URL_LIFETIME = timedelta(hours=1)
# Signed ids are only meaningful to the process that made them, like DS's to its secret key base.
_SECRET = secrets.token_bytes(32)


class StoredFile(NamedTuple):
    filename: str
    content_type: str
    byte_size: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(purpose: str, value: str, expires_at: datetime | None = None) -> str:
    """An opaque token for `value`, valid for `purpose` (and until `expires_at` when given)."""
    expiry = "" if expires_at is None else str(int(expires_at.timestamp()))
    payload = _b64(f"{purpose}|{value}|{expiry}".encode())
    digest = hmac.new(_SECRET, payload.encode(), hashlib.sha256).digest()[:15]
    return f"{payload}--{_b64(digest)}"


class Refused(Exception):
    """A signed token that is forged, made for another purpose, or expired."""


def verify(purpose: str, token: str, now: datetime | None = None) -> str:
    payload, _, signature = token.partition("--")
    expected = _b64(hmac.new(_SECRET, payload.encode(), hashlib.sha256).digest()[:15])
    if not signature or not hmac.compare_digest(signature, expected):
        raise Refused("bad signature")
    try:
        made_for, value, expiry = _unb64(payload).decode().split("|", 2)
    except (ValueError, UnicodeDecodeError):
        raise Refused("bad payload") from None
    if made_for != purpose:
        raise Refused("other purpose")
    if expiry and int(expiry) < (now or datetime.now(UTC)).timestamp():
        raise Refused("expired")
    return value


def file_url(base_url: str, key: str, filename: str, now: datetime) -> str:
    return f"{base_url}/files/{sign('file', key, now + URL_LIFETIME)}/{quote(filename)}"


def file_view(
    stored: StoredFile,
    *,
    key: str,
    checksum: str,
    created_at: datetime,
    base_url: str,
    now: datetime,
    scan: str = "safe",
) -> dict:
    """A `File` object: `byteSize` is the deprecated 32-bit twin of `byteSizeBigInt`."""
    return {
        "filename": stored.filename,
        "contentType": stored.content_type,
        "byteSize": min(stored.byte_size, 2**31 - 1),
        "byteSizeBigInt": stored.byte_size,
        "checksum": checksum,
        "url": file_url(base_url, key, stored.filename, now),
        "createdAt": created_at,
        "virusScanResult": scan,
    }


def checksum_of(data: bytes) -> str:
    """ActiveStorage's checksum: base64 of the MD5 digest."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def dossier_export(base_url: str, dossier_number: int, kind: str, now: datetime) -> dict:
    """`Dossier.pdf` / `Dossier.geojson`: made on demand, so no size and no checksum, scan pending."""
    token = sign(f"dossier-{kind}", str(dossier_number), now + URL_LIFETIME)
    filename = f"dossier-{dossier_number}.pdf" if kind == "pdf" else f"dossier-{dossier_number}-features.json"
    return {
        "filename": filename,
        "contentType": "application/pdf" if kind == "pdf" else "application/json",
        "byteSize": 0,
        "byteSizeBigInt": 0,
        "checksum": "",
        "url": f"{base_url}/api/v2/dossiers/{kind}/{token}",
        "createdAt": now,
        "virusScanResult": "pending",
    }


@dataclass
class Blob:
    """An uploaded file (ActiveStorage blob): declared by createDirectUpload, filled by the PUT."""

    number: int
    filename: str
    content_type: str
    byte_size: int
    checksum: str
    data: bytes | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def signed_id(self) -> str:
        # DS's signed blob ids expire with the service URLs: an hour.
        return sign("blob", str(self.number), self.created_at + URL_LIFETIME)

    def stored(self) -> StoredFile:
        return StoredFile(self.filename, self.content_type, self.byte_size)


# What DS's mutations answer about a justificatif or an attachment (validate_blob).
BLOB_INVALID = "L’identifiant du fichier téléversé est invalide"
BLOB_MISSING = "Le fichier n’a pas été correctement téléversé sur le serveur de stockage"
BLOB_CORRUPT = "Le hash du fichier téléversé est invalide"


class Blobs:
    """The blobs of a store, by number."""

    def __init__(self) -> None:
        self._blobs: dict[int, Blob] = {}

    def create(self, filename: str, content_type: str, byte_size: int, checksum: str) -> Blob:
        blob = Blob(len(self._blobs) + 1, filename, content_type, byte_size, checksum)
        self._blobs[blob.number] = blob
        return blob

    def get(self, number: int) -> Blob | None:
        return self._blobs.get(number)

    def data_of(self, key: str) -> bytes | None:
        """The uploaded bytes a file key names ("blob/<number>"), if any."""
        kind, _, number = key.partition("/")
        blob = self._blobs.get(int(number)) if kind == "blob" and number.isdigit() else None
        return blob.data if blob else None

    def upload_token(self, blob: Blob) -> str:
        return sign("upload", str(blob.number), blob.created_at + URL_LIFETIME)

    def receive(self, token: str, data: bytes, content_type: str | None) -> int:
        """The PUT of a direct upload: the HTTP status ActiveStorage's disk service answers."""
        try:
            blob = self._blobs.get(int(verify("upload", token)))
        except (Refused, ValueError):
            return 404
        if blob is None:
            return 404
        if (content_type or "").split(";")[0].strip() != blob.content_type or len(data) != blob.byte_size:
            return 422
        if checksum_of(data) != blob.checksum:
            return 422  # ActiveStorage::IntegrityError
        blob.data = data
        return 204

    def check(self, signed_id: str) -> tuple[Blob | None, str | None]:
        """The blob a mutation names, or DS's error for it."""
        try:
            blob = self._blobs.get(int(verify("blob", signed_id)))
        except (Refused, ValueError):
            return None, BLOB_INVALID
        if blob is None:
            return None, BLOB_INVALID
        if blob.data is None:
            return None, BLOB_MISSING
        if checksum_of(blob.data) != blob.checksum:
            return None, BLOB_CORRUPT
        return blob, None
