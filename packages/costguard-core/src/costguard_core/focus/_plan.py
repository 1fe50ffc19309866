"""The SQL shape every format maps into, and the row checks that go with it.

A :class:`Plan` says, for one file, how to compute each FOCUS column from the file's columns
(which DuckDB sees under positional names ``c0, c1, ...`` so that odd or case-clashing header
names never matter), which text values hold money, and which conditions make a row bad.
:func:`staged_sql` turns it into one ``WITH`` query whose last stage ``v`` has the FOCUS columns,
one boolean per check and ``ok``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from costguard_core.errors import InputError

#: Money is summed as DECIMAL(38, 24): 24 decimal places hold every cost seen in real exports
#: (koku's CUR has 21-22 places from float reprs), and 14 integer digits hold any daily sum.
MONEY_SCALE = 24
MONEY_TYPE = f"DECIMAL(38, {MONEY_SCALE})"

#: The period ChargePeriodStart is floored to (``read_daily(..., granularity=...)``).
Granularity = Literal["day", "hour"]

TEXT_COLUMNS = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "ChargeCategory",
    "BillingCurrency",
)

#: Money text with at most this many fractional digits is parsed as DECIMAL(18, 12), a 64-bit
#: integer, then widened to MONEY_TYPE exactly; DuckDB's 128-bit DECIMAL(38, 24) parse costs
#: ~1.3 s of CPU per million values here (bench/README.md, "Ingest"), the 64-bit one < 0.1 s.
FAST_SCALE = 12
_FAST_TYPE = f"DECIMAL(18, {FAST_SCALE})"

# Macros the staged SQL uses; created once per DuckDB connection.
MACROS = (
    "CREATE OR REPLACE TEMP MACRO cg_exp_pos(v) AS greatest(strpos(v, 'e'), strpos(v, 'E'))",
    # Digits between the point and the exponent mark (0 without a point before it).
    "CREATE OR REPLACE TEMP MACRO cg_mant_frac(v, e) AS "
    "CASE WHEN strpos(v, '.') BETWEEN 1 AND e THEN e - 1 - strpos(v, '.') ELSE 0 END",
    # An upper bound, from cheap position arithmetic, on the fractional digits of v's value and
    # (DuckDB scales the mantissa before applying the exponent) of its mantissa: characters
    # after the point, minus the exponent. NULL when the exponent text is not a number. It never
    # undercounts, so no value it lets through the 64-bit parse is rounded there.
    "CREATE OR REPLACE TEMP MACRO cg_frac_bound(v) AS CASE WHEN cg_exp_pos(v) = 0 "
    "THEN length(v) - strpos(v, '.') "
    "ELSE cg_mant_frac(v, cg_exp_pos(v)) + greatest(0, "
    "-TRY_CAST(substr(v, cg_exp_pos(v) + 1) AS INTEGER)) END",
    # v's exact decimal given fb = cg_frac_bound(v) (computed once per row, in stage f). The
    # 64-bit parse is NULL on overflow (or text it cannot read): then the exact parse decides.
    f"CREATE OR REPLACE TEMP MACRO cg_num(v, fb) AS CASE WHEN fb <= {FAST_SCALE} "
    f"THEN coalesce(CAST(TRY_CAST(v AS {_FAST_TYPE}) AS {MONEY_TYPE}), "
    f"TRY_CAST(trim(v) AS {MONEY_TYPE})) ELSE TRY_CAST(trim(v) AS {MONEY_TYPE}) END",
    # Fractional digits a value really needs (trailing zeros and exponent taken into account);
    # only worked out when the cheap bound fb exceeds the scale, where rounding could happen.
    f"CREATE OR REPLACE TEMP MACRO cg_too_precise(v, fb) AS CASE WHEN fb <= {MONEY_SCALE} "
    "THEN false ELSE v IS NOT NULL AND "
    "(length(rtrim(regexp_extract(trim(v), '\\.([0-9]*)', 1), '0')) - "
    "coalesce(TRY_CAST(regexp_extract(trim(v), '[eE]([+-]?[0-9]+)$', 1) AS INTEGER), 0)) "
    f"> {MONEY_SCALE} END",
)


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Columns:
    """A file's header: source column name -> positional DuckDB name (``c0``...)."""

    def __init__(self, names: tuple[str, ...], path: str) -> None:
        self.names = names
        self.path = path
        self._pos: dict[str, str] = {}
        self._lower: dict[str, str] = {}
        for i, name in enumerate(names):
            self._pos.setdefault(name, f"c{i}")
            self._lower.setdefault(name.lower(), name)

    def has(self, name: str) -> bool:
        return name in self._pos

    def ref(self, name: str) -> str:
        """SQL for the column, or a typed NULL when the file has no such column."""
        return self._pos.get(name, "CAST(NULL AS VARCHAR)")

    def name(self, *alternatives: str) -> str | None:
        """The header's spelling of the first alternative present, ignoring case (Azure exports
        spell the same column ``CostInBillingCurrency`` or ``costInBillingCurrency``)."""
        for alt in alternatives:
            if alt in self._pos:
                return alt
            if alt.lower() in self._lower:
                return self._lower[alt.lower()]
        return None

    def find(self, *alternatives: str) -> str:
        """Like :meth:`ref` for the first alternative present, ignoring case; typed NULL if none."""
        found = self.name(*alternatives)
        return self.ref(found) if found else "CAST(NULL AS VARCHAR)"

    def need(self, *alternatives: str, focus_field: str) -> str:
        """Like :meth:`find`, but InputError naming the field when no alternative is present."""
        found = self.name(*alternatives)
        if found is None:
            raise InputError(
                f"missing required column {' or '.join(alternatives)}",
                path=self.path,
                field=focus_field,
            )
        return self.ref(found)

    def require(self, *alternatives: str, focus_field: str | None = None) -> str:
        """SQL for the first present alternative; InputError naming the field when none is."""
        present = [self._pos[a] for a in alternatives if a in self._pos]
        if not present:
            want = " or ".join(alternatives)
            raise InputError(
                f"missing required column {want}", path=self.path, field=focus_field or want
            )
        return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"


@dataclass(frozen=True)
class Check:
    """A row is bad when ``condition`` holds; the error names ``field`` (None: the whole row)
    and shows ``value``. ``tag`` marks a check lenient mode relaxes (``ISO_CURRENCY``)."""

    field: str | None
    condition: str
    message: str
    value: str | None = None
    tag: str = ""


#: Tag of the "three letters" currency check, which lenient mode drops (the currency is then
#: kept as given, with a warning).
ISO_CURRENCY = "iso-currency"


@dataclass
class Plan:
    """How one file's columns become the FOCUS daily columns (all SQL over positional names).

    ``text`` maps each of TEXT_COLUMNS plus ``charge_start`` and ``tags_raw`` to a VARCHAR
    expression. ``money`` maps an alias to ``(source column name, SQL)``; stage ``t`` adds
    ``<alias>_d``, the exact decimal. ``billed``/``effective``/``listed`` are expressions over
    those decimals (and the text aliases). ``money_inputs`` names the text aliases those
    expressions read. ``needed_when`` maps a money or money-input alias to the SQL condition
    (over stage ``v``) under which a row's cost reads it (absent: every row); ``nullable``
    names aliases that may be null (ListCost inputs). Lenient mode uses both: a short row is
    bad only when a column its cost reads and that may not be null is missing, and with
    ``relaxed`` a number check applies only to rows that read the column (text elsewhere is
    counted by ``ignored_checks`` and reported, not summed). ``structure`` holds lenient
    mode's row-shape checks, run before all others. ``granularity`` is the period ``day`` is
    floored to: the UTC day (a DATE) or the UTC hour (a TIMESTAMP).
    """

    text: dict[str, str]
    money: dict[str, tuple[str, str]]
    billed: str
    effective: str
    listed: str
    checks: list[Check] = field(default_factory=list)
    currency_field: str = "BillingCurrency"
    money_inputs: tuple[str, ...] = ()
    needed_when: dict[str, str] = field(default_factory=dict)
    nullable: frozenset[str] = frozenset()
    relaxed: bool = False
    structure: list[Check] = field(default_factory=list)
    granularity: Granularity = "day"

    def all_checks(self) -> list[Check]:
        """Row-shape checks (lenient only), the generic number checks on every money input,
        then the plan's own checks; the first that fails names a bad row's field."""
        generic: list[Check] = []
        for alias, (source, _) in self.money.items():
            bad = f"{alias} IS NOT NULL AND {alias}_d IS NULL"  # reuses stage t's parse
            generic.append(Check(source, self._if_read(alias, bad), "not a number", alias))
        for alias, (source, _) in self.money.items():
            generic.append(
                Check(
                    source,
                    self._if_read(alias, f"cg_too_precise({alias}, {alias}_fb)"),
                    f"more than {MONEY_SCALE} decimal places (refusing to round)",
                    alias,
                )
            )
        return self.structure + generic + self.checks

    def _if_read(self, alias: str, condition: str) -> str:
        if self.relaxed and alias in self.needed_when:
            return f"{condition} AND ({self.needed_when[alias]})"
        return condition

    def ignored_checks(self) -> list[Check]:
        """With ``relaxed``: text that is not a number in a money column a row's cost does not
        read (``needed_when``). Such a row is not bad; the reader counts and reports it."""
        if not self.relaxed:
            return []
        return [
            Check(
                self.money[alias][0],
                f"{alias} IS NOT NULL AND {alias}_d IS NULL AND NOT coalesce({when}, false)",
                "not a number",
                alias,
            )
            for alias, when in self.needed_when.items()
            if alias in self.money
        ]

    def cost_alias(self) -> str:
        """The money alias BilledCost is read from (its raw text is shown for a rejected row)."""
        found = re.search(r"\b([a-z][a-z0-9_]*?)_d\b", self.billed)
        if found is None or found[1] not in self.money:  # pragma: no cover - every plan has one
            raise AssertionError(f"no money alias in {self.billed!r}")
        return found[1]


def staged_sql(plan: Plan, source: str, extra: tuple[str, ...] = ()) -> str:
    """``WITH m, f, t, v`` stages over ``source`` (a FROM item); returns the CTE text only.

    ``extra`` names source columns passed through unchanged (the Parquet row number).
    """
    m_cols = [f"{expr} AS {alias}" for alias, expr in plan.text.items()]
    m_cols += [f"{expr} AS {alias}" for alias, (_, expr) in plan.money.items()]
    m_cols += list(extra)
    # Only ISO 8601 dates count: DuckDB would also read e.g. "01-04-25" as year 1.
    # The session time zone is UTC, so both floors are UTC; an hourly period is never split.
    stamp = "TRY_CAST(trim(charge_start) AS TIMESTAMPTZ)"
    floor = (
        f"CAST({stamp} AS DATE)"
        if plan.granularity == "day"
        else f"CAST(date_trunc('hour', {stamp}) AS TIMESTAMP)"
    )
    t_cols = [
        "CASE WHEN regexp_matches(trim(charge_start), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') "
        f"THEN {floor} END AS day"
    ]
    t_cols += [f"cg_num({alias}, {alias}_fb) AS {alias}_d" for alias in plan.money]
    f_cols = [f"cg_frac_bound({alias}) AS {alias}_fb" for alias in plan.money]
    checks = plan.all_checks()
    v_cols = [
        f"{plan.billed} AS BilledCost",
        f"{plan.effective} AS EffectiveCost",
        f"{plan.listed} AS ListCost",
    ]
    # A NULL condition (e.g. comparing with a missing value) counts as "not bad".
    v_cols += [f"coalesce({c.condition}, false) AS chk_{i}" for i, c in enumerate(checks)]
    v_cols += [
        f"coalesce({c.condition}, false) AS ign_{i}" for i, c in enumerate(plan.ignored_checks())
    ]
    ok = " OR ".join(f"chk_{i}" for i in range(len(checks))) or "false"
    return (
        f"WITH m AS (SELECT {', '.join(m_cols)} FROM {source}),\n"
        f"f AS (SELECT {', '.join(['*', *f_cols])} FROM m),\n"
        f"t AS (SELECT *, {', '.join(t_cols)} FROM f),\n"
        f"v0 AS (SELECT *, {', '.join(v_cols)} FROM t),\n"
        f"v AS (SELECT *, NOT ({ok}) AS ok FROM v0)\n"
    )


def common_checks(
    *, day_field: str, currency_field: str, provider_field: str, service_field: str
) -> list[Check]:
    """Checks every format needs: a UTC day, one 3-letter currency, a provider and a service."""
    return [
        Check(day_field, "charge_start IS NULL", "empty timestamp"),
        Check(day_field, "day IS NULL", "not an ISO 8601 timestamp", "charge_start"),
        # pandas' datetime64[ns] ends in 2262; real billing data is never near either bound.
        Check(
            day_field,
            "day < DATE '1900-01-01' OR day > DATE '2200-12-31'",
            "timestamp out of range (1900-2200)",
            "charge_start",
        ),
        Check(currency_field, "BillingCurrency IS NULL", "empty currency"),
        Check(
            currency_field,
            "length(BillingCurrency) <> 3",
            "not a 3-letter ISO 4217 currency code",
            "BillingCurrency",
            ISO_CURRENCY,
        ),
        Check(provider_field, "ProviderName IS NULL", "empty provider name"),
        Check(service_field, "ServiceName IS NULL", "empty service name"),
    ]
