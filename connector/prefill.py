"""DS prefill links (NOTES §18): `/commencer/<path>?champ_<id>=<value>`.

An employer who already knows the student's data sends the link; the
student signs in and finds the form half filled. DS silently drops a value
that is invalid for its type, so values are checked here first.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from mappings.normalize import is_valid_siret
from mappings.procedure import Procedure

MAX_URL_LENGTH = 2000
NOT_PREFILLABLE = {"piece_justificative", "repetition", "header_section", "explication", "titre_identite"}


class PrefillError(ValueError):
    pass


def _check_value(definition, value: str) -> str:
    kind = definition.type
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise PrefillError(f"{definition.key}: expected a date YYYY-MM-DD, got {value!r}") from None
    elif kind == "yes_no" and value not in ("true", "false"):
        raise PrefillError(f"{definition.key}: expected true or false, got {value!r}")
    elif kind == "drop_down_list" and value not in definition.options:
        raise PrefillError(f"{definition.key}: {value!r} is not one of {list(definition.options)}")
    elif kind == "siret" and not is_valid_siret(value):
        raise PrefillError(f"{definition.key}: {value!r} is not a valid SIRET")
    elif kind == "pays" and not re.fullmatch(r"[A-Z]{2}", value):
        raise PrefillError(f"{definition.key}: expected an ISO country code such as DZ, got {value!r}")
    elif kind in ("decimal_number", "integer_number") and not re.fullmatch(r"-?\d+([.,]\d+)?", value):
        raise PrefillError(f"{definition.key}: expected a number, got {value!r}")
    return value


def prefill_link(base_url: str, procedure: Procedure, values: dict[str, str]) -> str:
    params = {}
    for key, value in values.items():
        try:
            definition = procedure.champ(key)
        except KeyError as error:
            raise PrefillError(str(error.args[0])) from None
        if definition in procedure.annotations:
            raise PrefillError(f"{key} is a private annotation: applicants cannot see it")
        if definition.type in NOT_PREFILLABLE:
            raise PrefillError(f"{key} ({definition.type}) cannot be prefilled")
        params["champ_" + definition.id.replace("=", "")] = _check_value(definition, value)
    url = f"{base_url.rstrip('/')}/commencer/{procedure.path}"
    if params:
        url += "?" + urlencode(params)
    if len(url) > MAX_URL_LENGTH:
        raise PrefillError(f"the link is {len(url)} characters long; DS accepts about {MAX_URL_LENGTH}")
    return url
