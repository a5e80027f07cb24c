"""Bar charts as HTML and CSS: horizontal bars whose labels and values are
page text, so they keep the page's font size on a phone (an SVG scaled to
a 390 px screen shrank its 11-unit labels to 6 px) and need no script.

Each chart is one `role="img"` block named by its caption and described by
a sentence that reads every bar (`alt_text`), the same figures as the bars;
the table after it has them too. Bars are told apart by the series name
written on each bar's row, not by colour alone. A suppressed value is an
empty dashed track with the table's mark (« masqué », « n.d. »), never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from stats.format import is_missing

BLUE_FRANCE = "#000091"
BLUE_LIGHT = "#6a6af4"
RED_MARIANNE = "#c9191e"
OLIVE = "#66673d"


@dataclass(frozen=True)
class Series:
    name: str
    values: list  # float, or None/NaN when not published
    colour: str = BLUE_FRANCE


def value_text(value, fmt, hidden_mark: str) -> str:
    return hidden_mark if is_missing(value) else fmt(value)


def alt_text(labels: list[str], series: list[Series], fmt, hidden_mark: str) -> str:
    """« janv. 26 : Déposés 45, Acceptés 30 ; févr. 26 : … »: every bar, in reading order."""
    groups = []
    for i, label in enumerate(labels):
        bars = ", ".join(f"{s.name} {value_text(s.values[i], fmt, hidden_mark)}" for s in series)
        groups.append(f"{label} : {bars}")
    return " ; ".join(groups) + "."


def bar_chart(
    chart_id: str, title: str, labels: list[str], series: list[Series], fmt, hidden_mark: str = "n.d."
) -> str:
    """Grouped horizontal bars, one group per label; widths relative to the largest value."""
    top = max((float(v) for s in series for v in s.values if not is_missing(v)), default=0.0) or 1.0
    parts = [
        f'<figure class="graphique" id="{chart_id}">',
        f'<figcaption id="{chart_id}-titre">{escape(title)}</figcaption>',
        f'<div class="barres" role="img" aria-labelledby="{chart_id}-titre" aria-describedby="{chart_id}-texte">',
    ]
    for i, label in enumerate(labels):
        parts.append(f'<div class="groupe"><p class="etiquette">{escape(label)}</p>')
        for s in series:
            value = s.values[i]
            text = escape(value_text(value, fmt, hidden_mark))
            if is_missing(value):
                track = '<span class="piste masquee"></span>'
            else:
                width = 100 * float(value) / top
                track = (
                    f'<span class="piste"><span class="remplissage" '
                    f'style="width:{width:.1f}%;background:{s.colour}"></span></span>'
                )
            parts.append(
                f'<p class="barre"><span class="serie">{escape(s.name)}</span>{track}'
                f'<span class="nombre">{text}</span></p>'
            )
        parts.append("</div>")
    parts.append("</div>")
    parts.append(
        f'<p class="texte-alternatif" id="{chart_id}-texte">{escape(alt_text(labels, series, fmt, hidden_mark))}</p>'
    )
    parts.append("</figure>")
    return "".join(parts)
