"""The binary COPY encoder round-trips every value the recompute writes, NULLs and empty text
included (PostgreSQL only: SQLite has no COPY)."""

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from kpis.services import pgcopy

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's"
)


@pytest.mark.django_db
def test_binary_copy_round_trips_ids_dates_floats_nulls_text_and_a_moment():
    # given
    frame = pd.DataFrame(
        {
            "id": [1, 2**40, 3],
            "day": pd.to_datetime(["2026-03-16", "1999-12-27", "2000-01-01"]),
            "value": [0.1 + 0.2, np.nan, -1e15],
            "status": ["on_track", "", "red"],
        }
    )
    moment = dt.datetime(2026, 3, 16, 7, 30, 0, 123456, tzinfo=dt.UTC)
    columns = [
        pgcopy.bigint(frame["id"]),
        pgcopy.date(frame["day"]),
        pgcopy.float8(frame["value"]),
        pgcopy.text(frame["status"]),
        pgcopy.timestamptz(moment, len(frame)),
    ]

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copy_check (id bigint, day date, value double precision, "
            "status varchar(10) NOT NULL, at timestamptz)"
        )
        cursor.copy_expert(
            "COPY copy_check FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(pgcopy.payload(columns, len(frame))),
        )
        cursor.execute("SELECT id, day, value, status, at FROM copy_check ORDER BY id")
        rows = cursor.fetchall()

    # then
    assert rows == [
        (1, dt.date(2026, 3, 16), 0.30000000000000004, "on_track", moment),
        (3, dt.date(2000, 1, 1), -1e15, "red", moment),
        (2**40, dt.date(1999, 12, 27), None, "", moment),
    ]
