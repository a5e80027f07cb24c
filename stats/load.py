"""SQL → DataFrame: the only place that reads the database for the stats.

Built for a million dossiers in a few seconds: only the columns a caller
needs are selected (and only the joins they need), the rows come straight
from the driver cursor (no SQLAlchemy Row objects, no per-value type
conversion), datetimes are parsed once per column by pandas, and labels
become categoricals.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from core.models import Contract, Dossier, Student

DATETIME_COLUMNS = ("date_depot", "date_passage_en_construction", "date_passage_en_instruction", "date_traitement")
DATE_COLUMNS = ("apt_start", "apt_end")
CATEGORY_COLUMNS = ("state", "departement", "service", "contract_type", "nationality_code", "nationality_name")
SOURCES = {
    "number": Dossier.number,
    "demarche_number": Dossier.demarche_number,
    "state": Dossier.state,
    "departement": Dossier.departement,
    "service": Dossier.service,
    "date_depot": Dossier.date_depot,
    "date_passage_en_construction": Dossier.date_passage_en_construction,
    "date_passage_en_instruction": Dossier.date_passage_en_instruction,
    "date_traitement": Dossier.date_traitement,
    "apt_start": Dossier.apt_start,
    "apt_end": Dossier.apt_end,
    "contract_type": Contract.contract_type,
    "nationality_code": Student.nationality_code,
    "nationality_name": Student.nationality_name,
}
# What the public page needs; the monthly report needs every column.
PAGE_COLUMNS = (
    "state",
    "departement",
    "service",
    "date_depot",
    "date_passage_en_construction",
    "date_passage_en_instruction",
    "date_traitement",
    "contract_type",
)
REPORT_COLUMNS = tuple(SOURCES)


def visible_dossiers_query(columns=REPORT_COLUMNS):
    """Deposited dossiers that are neither deleted nor in the trash."""
    query = select(*(SOURCES[name].label(name) for name in columns))
    if any(SOURCES[name].class_ is Contract for name in columns):
        query = query.outerjoin(Contract, Contract.dossier_number == Dossier.number)
    if any(SOURCES[name].class_ is Student for name in columns):
        query = query.outerjoin(Student, Student.dossier_number == Dossier.number)
    return query.select_from(Dossier).where(
        Dossier.deleted_at.is_(None), Dossier.hidden_at.is_(None), Dossier.date_depot.is_not(None)
    )


def load_dossiers(bind: Connection | Session, columns=REPORT_COLUMNS) -> pd.DataFrame:
    """One row per visible dossier; datetimes aware UTC, dates as datetime64, labels categorical."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    query = visible_dossiers_query(columns)
    # No bound values in the query (only IS NULL tests), so literal SQL is safe.
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    assert driver is not None  # None only once the connection is invalidated; this one is in use
    cursor = driver.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return normalise_types(pd.DataFrame(rows, columns=list(columns)))


def normalise_types(frame: pd.DataFrame) -> pd.DataFrame:
    for name in DATETIME_COLUMNS:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in DATE_COLUMNS:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
    for name in CATEGORY_COLUMNS:
        if name in frame:
            frame[name] = frame[name].astype("category")
    if "number" in frame:
        frame["number"] = frame["number"].astype("int64")
    return frame
