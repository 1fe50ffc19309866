"""The one daily-aggregation query for GCP's BigQuery billing export, in two renderings.

BigQuery runs it in production; tests run the DuckDB rendering of the same text over the real
export rows, so the SQL itself is tested. Only the money cast and parameter markers differ.
Credits are netted as the export schema defines (``cost`` is before credits; credits are
negative): net = SUM(cost) + SUM(credits.amount). FLOAT64 money is cast through its text to an
exact decimal before summing, so the sum is not a float sum.
"""

from __future__ import annotations

from typing import Literal

_SQL = """
SELECT
  CAST(usage_start_time AS DATE) AS day,
  billing_account_id,
  project.id AS project_id,
  service.description AS service,
  location.region AS region,
  currency,
  cost_type,
  CAST(SUM(cg_money(cost)) AS STRING) AS cost,
  CAST(SUM(cg_money(cost)) + SUM(IFNULL(
    (SELECT SUM(cg_money(c.amount)) FROM UNNEST(credits) AS c), 0)) AS STRING) AS net_cost
FROM {table}
WHERE usage_start_time >= {p}start AND usage_start_time < {p}end
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
"""

COLUMNS = (
    "day",
    "billing_account_id",
    "project_id",
    "service",
    "region",
    "currency",
    "cost_type",
    "cost",
    "net_cost",
)

#: cg_money(x): FLOAT64/NUMERIC money -> exact decimal through its text, in each dialect.
_BIGQUERY_UDF = (
    "CREATE TEMP FUNCTION cg_money(x ANY TYPE) AS (CAST(CAST(x AS STRING) AS BIGNUMERIC));\n"
)
DUCKDB_MACRO = (
    "CREATE OR REPLACE TEMP MACRO cg_money(x) AS CAST(CAST(x AS VARCHAR) AS DECIMAL(38, 24))"
)


def daily_sql(table: str, dialect: Literal["bigquery", "duckdb"]) -> str:
    """The query for ``table``; parameters ``start``/``end`` are TIMESTAMPs (end exclusive).

    The DuckDB rendering needs :data:`DUCKDB_MACRO` created on the connection first.
    """
    if dialect == "bigquery":
        return _BIGQUERY_UDF + _SQL.format(table=f"`{table}`", p="@")
    return _SQL.format(table=table, p="$")
