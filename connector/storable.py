"""What no database can store in text, and how the connector replaces it.

DS's JSON can carry a NUL (`\\u0000`: PostgreSQL refuses it in text) and lone
surrogates (`\\ud800`: no UTF-8 encodes them, so SQLite and PostgreSQL drivers
raise UnicodeEncodeError). The raw copy of a dossier is stored with each of
them replaced by U+FFFD « � », the rest of the text as DS sent it; the
mapping reads the values as DS sent them and names the champ that held one
(mappings.values). Most answers have none: the client scans the response
bytes once, and only a page it flags is cleaned.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# In the JSON text: the escapes that decode to them. An emoji's escaped
# surrogate pair matches too, which only costs a closer look.
UNSTORABLE_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89abAB])")


def storable_text(value: str) -> str:
    return UNSTORABLE_CHARACTERS.sub(REPLACEMENT, value)


def may_hold_unstorable(body: bytes | None) -> bool:
    return body is not None and UNSTORABLE_ESCAPES.search(body) is not None


def replace_unstorable(value):
    """The same JSON value, each NUL and lone surrogate of its strings (keys
    too) replaced by U+FFFD."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {replace_unstorable(k): replace_unstorable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_unstorable(v) for v in value]
    return value
