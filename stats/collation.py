"""French alphabetical order for the names people read in a table (nationalities, départements).

Python sorts by code point, which puts « États-Unis » after « Viêt Nam » (É is U+00C9, after every
unaccented letter) and « îles » after « Italie ». French dictionaries compare letters first and look at
accents and case only to break a tie; that is what `french_key` does, for the short labels of our tables.
ICU's full collation (PyICU) would do the same and more, but PyPI ships it only as source that needs
ICU's headers and a C++ build on every machine (see the README's « Libraries and why »).
"""

from __future__ import annotations

import unicodedata

# Letters French dictionaries read as two (NFKD does not decompose them): « Œ » is « OE ».
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def base_letters(text: str) -> str:
    """« Île-de-France » → « ile-de-france »: accents stripped, case folded, ligatures spelt out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def french_key(text: str) -> tuple[str, str, str]:
    """Sort key: letters first; then accents (« cote » < « côte »), then case, so the order is total."""
    return base_letters(text), unicodedata.normalize("NFD", text).casefold(), text
