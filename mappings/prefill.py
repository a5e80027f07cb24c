"""DS prefill links (docs/ds-champs.md#prefill-links): `/commencer/<path>?champ_<id>=<value>`.

An employer who already knows the student's data sends the link; the
student signs in and finds the form half filled. DS silently drops a value
that is invalid for its type, so values are checked here first.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from core.errors import ExitCode, WifError
from mappings.binding import Binding
from mappings.normalize import is_valid_siret
from mappings.procedure import Procedure

MAX_URL_LENGTH = 2000
NOT_PREFILLABLE = {"piece_justificative", "repetition", "header_section", "explication", "titre_identite"}


class PrefillError(WifError, ValueError):
    """A KEY=VALUE the definition does not accept."""

    exit_code = ExitCode.CONFIG


def _is_iso_date(value: str) -> bool:
    # date.fromisoformat alone (Python 3.11) also takes 20240115 or 2024-W03-1.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_value(definition, value: str) -> str:
    kind = definition.type
    if kind == "date" and not _is_iso_date(value):
        raise PrefillError(f"{definition.key}: expected a date YYYY-MM-DD, got {value!r}")
    elif kind == "civilite" and value not in ("M.", "Mme"):
        raise PrefillError(f"{definition.key}: expected M. or Mme, got {value!r}")
    elif kind in ("yes_no", "checkbox") and value not in ("true", "false"):
        raise PrefillError(f"{definition.key}: expected true or false, got {value!r}")
    elif kind == "drop_down_list" and value not in definition.options:
        raise PrefillError(f"{definition.key}: {value!r} is not one of {list(definition.options)}")
    elif kind == "siret" and not is_valid_siret(value):
        raise PrefillError(f"{definition.key}: {value!r} is not a valid SIRET")
    elif kind == "pays" and not re.fullmatch(r"[A-Z]{2}", value):
        raise PrefillError(f"{definition.key}: expected an ISO country code such as DZ, got {value!r}")
    elif kind == "decimal_number" and not re.fullmatch(r"-?\d+([.,]\d+)?", value):
        raise PrefillError(f"{definition.key}: expected a number, got {value!r}")
    elif kind == "integer_number" and not re.fullmatch(r"-?\d+", value):
        raise PrefillError(f"{definition.key}: expected a whole number, got {value!r}")
    return value


def _repetition_children(procedure: Procedure) -> set[str]:
    return {child.key for definition in procedure.champs for child in definition.champs}


def prefill_link(base_url: str, procedure: Procedure, values: dict[str, str], binding: Binding) -> str:
    """`binding`: the démarche's stored binding, which names each champ's DS id."""
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
        if key in _repetition_children(procedure):
            # DS takes a repetition as a list of rows under the parent's key, never a child alone.
            raise PrefillError(f"{key} belongs to a repetition: it cannot be prefilled on its own")
        ds_id = binding.id_of(key)
        if ds_id is None:
            raise PrefillError(
                f"{key} is not bound to a champ of démarche {binding.demarche_number}: run `wif procedure bind`"
            )
        params["champ_" + ds_id.replace("=", "")] = _check_value(definition, value)
    url = f"{base_url.rstrip('/')}/commencer/{procedure.path}"
    if params:
        url += "?" + urlencode(params)
    if len(url) > MAX_URL_LENGTH:
        raise PrefillError(f"the link is {len(url)} characters long; DS accepts about {MAX_URL_LENGTH}")
    return url
