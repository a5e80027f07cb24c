"""French grammar the e-mails need around names they do not choose: « de » before a company or a service.

« contact de Agence des Deux Rives » and « de Hôtel Voltaire » read as machine text; French elides and, before a
common noun that opens a name, puts the article back: « contact de l'Agence des Deux Rives », « de l'Hôtel
Voltaire », « du Service de la main-d'œuvre étrangère de Paris », « d'Amazon ». The templates use the `de` filter
(notifications.render) and nothing else for it, and counts go through `plural`.
"""

from __future__ import annotations

import unicodedata

# Common nouns that open company or service names, with their gender: « Agence … » reads « l'Agence … ».
FEMININE = frozenset(
    """
agence association auberge banque boucherie boulangerie boutique brasserie caisse chambre clinique communauté
compagnie confédération coopérative crèche direction école entreprise épicerie fédération fondation ferme
fromagerie librairie maison mairie mutuelle pâtisserie pharmacie préfecture régie résidence sarl sas scop
société start-up université
""".split()
)
MASCULINE = frozenset(
    """
atelier bar bistrot bureau cabinet café camping centre château cinéma club collège comité conseil
conservatoire département domaine établissement garage gîte groupe groupement hôpital hôtel institut
laboratoire lycée magasin ministère musée office pôle restaurant salon secrétariat service studio
supermarché syndicat théâtre
""".split()
)
_VOWELS = frozenset("aeiouyh")


def _bare(word: str) -> str:
    """Lower case without accents or trailing punctuation: « Hôtel, » → « hotel »."""
    decomposed = unicodedata.normalize("NFD", word.lower().strip(",.;:"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _elides(word: str) -> bool:
    return bool(word) and _bare(word)[:1] in _VOWELS


def _nouns(words: frozenset[str]) -> frozenset[str]:
    return frozenset(_bare(word) for word in words)


_FEMININE, _MASCULINE = _nouns(FEMININE), _nouns(MASCULINE)


def de(name: str) -> str:
    """« de » followed by `name`, elided and contracted as French writes it."""
    name = " ".join(name.split())
    if not name:
        return "de l'employeur"
    first, _, rest = name.partition(" ")
    lowered = first.lower()
    if lowered in ("le", "les"):  # « de Le Bon Marché » → « du Bon Marché »
        return f"{'du' if lowered == 'le' else 'des'} {rest}".rstrip()
    if lowered == "la":
        return f"de la {rest}".rstrip()
    if lowered.startswith(("l'", "l’")):  # « de L'Oréal »: the article belongs to the name
        return f"de {name}"
    bare = _bare(first)
    if bare in _FEMININE or bare in _MASCULINE:
        if _elides(first):
            return f"de l'{name}"
        return f"de la {name}" if bare in _FEMININE else f"du {name}"
    return f"d'{name}" if _elides(first) else f"de {name}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """« 1 dossier », « 12 dossiers », « 0 dossier » (French: zero and one take the singular)."""
    return f"{count} {singular if count < 2 else (many or singular + 's')}"
