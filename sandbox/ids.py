"""DS global ids: base64 of "<Type>-<id>" (docs/ds-ids.md#global-ids)."""

from __future__ import annotations

import base64
import binascii


def gid(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}-{key}".encode()).decode()


def demarche_number(find: dict) -> int | None:
    """The number a FindDemarcheInput names: its `number`, or the one inside its `id`."""
    if find.get("number") is not None:
        return find["number"]
    return parse_gid(find.get("id") or "", "Procedure")


def parse_gid(value: str, type_name: str) -> int | None:
    """The integer id inside a global id of `type_name`, or None if it is not one."""
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, key = decoded.partition("-")
    if prefix != type_name or not key.isdigit():
        return None
    return int(key)
