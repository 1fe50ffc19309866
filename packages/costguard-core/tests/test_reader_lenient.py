"""Lenient mode (``read_daily(paths, lenient=True)``): the CSV repairs it makes (line endings,
short rows), the non-ISO currency it keeps as given, that each is reported, that the repaired
files reconcile to the cent with sums computed without the reader, and that everything else (a
row missing a column its own cost reads above all) is still refused. Rows set aside with
``max_bad_rows``: koku's November file here, the rules in test_reader_quarantine.py.

Expected sums come from DuckDB's own sniffing ``read_csv(..., null_padding=true)`` and from
Python's csv module over the raw text, not from the reader under test.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from costguard_core.errors import InputError
from costguard_core.focus import ReadWarning, RejectedRow, _lenient, read_daily

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
KOKU = SHARED / "koku"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")

Sums = dict[tuple[date, str], Decimal]

FOCUS = "ChargePeriodStart,ProviderName,ServiceName,ChargeCategory,BillingCurrency,BilledCost,"


def _got(frame: pd.DataFrame) -> Sums:
    sums: Sums = defaultdict(Decimal)
    for rec in frame.itertuples(index=False):
        sums[(rec.ChargePeriodStart.date(), rec.BillingCurrency)] += rec.BilledCost
    return dict(sums)


@needs_shared
def test_cur_with_a_missing_trailing_cost_category_column() -> None:
    path = KOKU / "aws" / "test_cur.csv"
    with pytest.raises(InputError, match=r"test_cur\.csv: row 2: expected 131 fields, found 130"):
        read_daily([path])
    daily = read_daily([path], lenient=True)
    # Independent sums: DuckDB's sniffer with null padding, money as DECIMAL(38, 24) text casts.
    want = {
        (day, cur): cost
        for day, cur, cost in duckdb.sql(
            'SELECT CAST(CAST("lineItem/UsageStartDate" AS TIMESTAMPTZ) AS DATE), '
            '"lineItem/CurrencyCode", sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38, 24))) '
            f"FROM read_csv('{path}', null_padding=true, all_varchar=true) GROUP BY ALL"
        ).fetchall()
    }
    assert _got(daily.frame) == want and len(want) >= 1
    assert daily.rows_read == 19
    assert daily.warnings == (
        ReadWarning(
            str(path),
            2,
            19,
            "padded 1 missing trailing column(s) with NULL (costCategory/CostCenter) on "
            "19 rows: 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...",
        ),
    )
    assert str(daily.warnings[0]).startswith(f"{path}: row 2: padded 1 missing")


@needs_shared
def test_azure_export_with_mixed_line_endings(tmp_path: Path) -> None:
    path = KOKU / "azure" / "camel_azure_version_2.csv"
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 4 and raw.count(b"\n") == 5  # four CRLF, then one LF
    with pytest.raises(InputError, match="mixed CRLF and LF"):
        read_daily([path])
    daily = read_daily([path], lenient=True)
    want: Sums = defaultdict(Decimal)
    for rec in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")):
        day = datetime.strptime(rec["date"], "%m/%d/%Y").date()
        want[(day, rec["billingCurrency"])] += Decimal(rec["costInBillingCurrency"])
    assert _got(daily.frame) == dict(want)
    assert daily.rows_read == 4
    (warning,) = daily.warnings
    assert warning.path == str(path) and warning.row is None
    assert "mixed line endings normalised: 4 CRLF and 1 LF" in warning.message
    # The repair changes line breaks only: the same rows as a file rewritten with LF throughout.
    unix = tmp_path / "unix.csv"
    unix.write_bytes(raw.replace(b"\r\n", b"\n"))
    pd.testing.assert_frame_equal(read_daily([unix]).frame, daily.frame)
    assert path.read_bytes() == raw  # the input file itself is never modified


def _november_reference(path: Path, skip: set[int]) -> dict[date, tuple[Decimal, Decimal]]:
    """Per-day BilledCost and EffectiveCost from Python's csv over the raw file: every row but
    ``skip`` (CSV numbering), short rows included (csv gives them fewer fields)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = {name: i for i, name in enumerate(rows[0])}
    sums: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for rn, rec in enumerate(rows[1:], start=2):
        if rn in skip:
            continue
        day = datetime.fromisoformat(rec[col["lineItem/UsageStartDate"]]).date()
        billed = Decimal(rec[col["lineItem/UnblendedCost"]])
        kind = rec[col["lineItem/LineItemType"]]
        assert kind in ("Usage", "SavingsPlanCoveredUsage"), rn
        effective = (
            Decimal(rec[col["savingsPlan/SavingsPlanEffectiveCost"]])
            if kind == "SavingsPlanCoveredUsage"
            else billed
        )
        sums[day][0] += billed
        sums[day][1] += effective
    return {day: (b, e) for day, (b, e) in sums.items()}


@needs_shared
def test_cur_with_shifted_and_short_rows_reads_with_two_rows_rejected() -> None:
    """koku's November-2023-None.csv: row 7 has 194 of 200 fields, shifted (its UnblendedCost
    is "BoxUsage:m5.large"); row 22 has 197 (three savingsPlan/* columns its Usage line does not
    read); row 27 is a SavingsPlanCoveredUsage line with an empty SavingsPlanEffectiveCost; every
    row ends with the text " # notsecret" in savingsPlan/UsedCommitment, a column no row's cost
    reads (only SavingsPlanRecurringFee lines do)."""
    path = KOKU / "aws" / "November-2023-None.csv"
    with pytest.raises(InputError, match=r"row 7: expected 200 fields, found 194"):
        read_daily([path])
    with pytest.raises(ValueError, match="max_bad_rows needs lenient=True"):
        read_daily([path], max_bad_rows=2)
    for max_bad, note in ((0, ""), (1, " (2 bad rows of 26; max_bad_rows is 1)")):
        with pytest.raises(InputError) as info:
            read_daily([path], lenient=True, max_bad_rows=max_bad)
        err = info.value
        assert (err.path, err.row, err.field) == (str(path), 7, "lineItem/UnblendedCost")
        assert err.message == "not a number: 'BoxUsage:m5.large'" + note
    daily = read_daily([path], lenient=True, max_bad_rows=2)
    assert daily.rejected == (
        RejectedRow(
            str(path),
            7,
            "lineItem/UnblendedCost",
            "not a number: 'BoxUsage:m5.large'",
            "lineItem/UnblendedCost",
            "BoxUsage:m5.large",
        ),
        RejectedRow(
            str(path),
            27,
            "savingsPlan/SavingsPlanEffectiveCost",
            "empty or missing, but SavingsPlanCoveredUsage lines need it for EffectiveCost",
            "lineItem/UnblendedCost",
            "0.013910122499148437",
        ),
    )
    assert str(daily.rejected[0]) == (
        f"{path}: row 7: field lineItem/UnblendedCost: not a number: 'BoxUsage:m5.large' "
        "(not summed; lineItem/UnblendedCost as given: 'BoxUsage:m5.large')"
    )
    assert daily.rows_read == 24 and daily.files[0].rows == 24 and daily.files[0].rejected == 2
    assert [(w.row, w.rows) for w in daily.warnings] == [(7, 1), (22, 1), (2, 23)]
    assert "padded 3 missing trailing column(s) with NULL (savingsPlan/StartTime, " in str(
        daily.warnings[1]
    )
    assert daily.warnings[2].message == (
        "field savingsPlan/UsedCommitment: ignored text that is not a number on 23 row(s) whose "
        "cost does not read this column (first: ' # notsecret'); strict mode refuses it"
    )
    got: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for rec in daily.frame.itertuples(index=False):
        got[rec.ChargePeriodStart.date()][0] += rec.BilledCost
        got[rec.ChargePeriodStart.date()][1] += rec.EffectiveCost
    want = _november_reference(path, skip={7, 27})
    assert {d: (b, e) for d, (b, e) in got.items()} == want and len(want) >= 1
    assert set(daily.frame.BillingCurrency) == {"USD"}


@needs_shared
def test_a_currency_that_is_not_iso_4217_is_kept_as_given_in_lenient_mode() -> None:
    path = KOKU / "azure" / "azure_version_2.csv"
    with pytest.raises(InputError, match=r"row 2: field BillingCurrencyCode: not a 3-letter"):
        read_daily([path])
    daily = read_daily([path], lenient=True)
    assert daily.currencies() == ("MC",) and set(daily.frame.BillingCurrency) == {"MC"}
    assert [str(w) for w in daily.warnings] == [
        f"{path}: BillingCurrencyCode 'MC' is not an ISO 4217 code; kept as given "
        "(never converted or guessed)"
    ]
    want: Sums = defaultdict(Decimal)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh):
            text = rec["Date"]  # this sample mixes 09/10/2020 and 2020-09-22
            day = (
                datetime.strptime(text, "%m/%d/%Y").date()
                if "/" in text
                else date.fromisoformat(text)
            )
            want[(day, rec["BillingCurrencyCode"])] += Decimal(rec["CostInBillingCurrency"])
    assert _got(daily.frame) == dict(want) and len(want) >= 2
    with pytest.raises(ValueError, match="BillingCurrency"):  # CostRow needs three letters
        daily.to_cost_rows()


def test_still_one_currency_per_file_in_lenient_mode(tmp_path: Path) -> None:
    path = _focus_file(
        tmp_path,
        "two.csv",
        "2025-01-01T00:00:00Z,AWS,EC2,Usage,MC,1,1\n2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1,1\n",
        FOCUS + "EffectiveCost\n",
    )
    with pytest.raises(InputError, match=r"row 3: field BillingCurrency: more than one currency"):
        read_daily([path], lenient=True, max_bad_rows=5)


@needs_shared
def test_lenient_changes_nothing_for_a_correct_file() -> None:
    path = SHARED / "focus_converters" / "aws_cur_sample_anonymous.csv"
    strict, lenient = read_daily([path]), read_daily([path], lenient=True)
    pd.testing.assert_frame_equal(strict.frame, lenient.frame)
    assert lenient.warnings == () and strict.warnings == ()


def _focus_file(tmp_path: Path, name: str, body: str, header: str = FOCUS) -> Path:
    path = tmp_path / name
    path.write_text(header + body)
    return path


def test_short_rows_are_padded_and_refused_when_their_own_cost_is_missing(tmp_path: Path) -> None:
    header = FOCUS + "EffectiveCost,RegionId,Tags\n"
    ok = _focus_file(
        tmp_path,
        "ok.csv",
        '2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1.10,1.00,us-east-1,"{""a"":""1""}"\n'
        "2025-01-01T01:00:00Z,AWS,EC2,Usage,USD,2.20,2.00,us-east-1\n"
        "2025-01-02T00:00:00Z,AWS,EC2,Usage,USD,3.30,3.00\n"
        "2025-01-02T01:00:00Z,AWS,EC2,Usage,USD,4.40,4.00,\n",
        header,
    )
    with pytest.raises(InputError, match="row 3: expected 9 fields, found 8"):
        read_daily([ok])
    daily = read_daily([ok], lenient=True)
    assert _got(daily.frame) == {
        (date(2025, 1, 1), "USD"): Decimal("3.3"),
        (date(2025, 1, 2), "USD"): Decimal("7.7"),
    }
    # One warning per repair shape: rows 3 and 5 lack Tags (row 5's RegionId is empty, not
    # missing), row 4 lacks RegionId and Tags.
    assert [(w.row, w.rows) for w in daily.warnings] == [(3, 2), (4, 1)]
    assert "padded 1 missing trailing column(s) with NULL (Tags) on 2 rows: 3, 5" in str(
        daily.warnings[0]
    )
    assert "(RegionId, Tags) on 1 row: 4" in str(daily.warnings[1])
    assert daily.rows_read == 4  # nothing dropped
    # A short row missing its own cost: refused, naming file, row and column (never read as 0).
    money = _focus_file(
        tmp_path,
        "money.csv",
        "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1,1\n2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1\n",
        FOCUS + "EffectiveCost\n",
    )
    with pytest.raises(InputError) as info:
        read_daily([money], lenient=True)
    assert (info.value.path, info.value.row, info.value.field) == (
        str(money),
        3,
        "EffectiveCost",
    )
    assert info.value.message.startswith("missing from this short row (column 7 of 7)")


def test_cur_columns_a_cost_depends_on_are_money_too(tmp_path: Path) -> None:
    # An upfront RI Fee's EffectiveCost is 0 only because reservation/ReservationARN is set:
    # padding that column with NULL would change a cost, so a Fee row missing it is refused; a
    # Usage row's cost does not read it, so a Usage row missing it is padded.
    header = (
        "lineItem/UsageStartDate,lineItem/LineItemType,lineItem/ProductCode,"
        "lineItem/CurrencyCode,lineItem/UnblendedCost,reservation/ReservationARN\n"
    )
    path = tmp_path / "cur.csv"
    path.write_text(
        header + "2025-01-01T00:00:00Z,Fee,AmazonEC2,USD,100,arn:ri\n"
        "2025-01-01T00:00:00Z,Usage,AmazonEC2,USD,7\n"
        "2025-01-01T00:00:00Z,Fee,AmazonEC2,USD,100\n"
    )
    with pytest.raises(InputError) as info:
        read_daily([path], lenient=True)
    assert (info.value.row, info.value.field) == (4, "reservation/ReservationARN")
    daily = read_daily([path], lenient=True, max_bad_rows=1)
    assert [r.row for r in daily.rejected] == [4]
    assert sum(daily.frame.BilledCost) == 107 and sum(daily.frame.EffectiveCost) == 7


def test_longer_rows_and_other_defects_are_not_repaired(tmp_path: Path) -> None:
    long = _focus_file(
        tmp_path,
        "long.csv",
        "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1,1,extra,\n",
        FOCUS + "EffectiveCost\n",
    )
    with pytest.raises(InputError, match="row 2: expected 7 fields, found 8"):
        read_daily([long])
    with pytest.raises(InputError) as info:
        read_daily([long], lenient=True)
    assert (info.value.row, info.value.field) == (2, None)
    # The trailing empty field counts: 9 fields, not 8.
    assert info.value.message == (
        "more fields than the header's 7 (lenient mode pads only missing trailing fields); "
        "fields found: 9"
    )
    bad = _focus_file(
        tmp_path,
        "bad.csv",
        "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,abc,1\n",
        FOCUS + "EffectiveCost\n",
    )
    with pytest.raises(InputError, match="row 2: field BilledCost: not a number"):
        read_daily([bad], lenient=True)
    quote = _focus_file(
        tmp_path,
        "quote.csv",
        '2025-01-01T00:00:00Z,AWS,"EC2,Usage,USD,1,1\n',
        FOCUS + "EffectiveCost\n",
    )
    for max_bad in (0, 5):
        with pytest.raises(InputError, match="unterminated quoted field"):
            read_daily([quote], lenient=True, max_bad_rows=max_bad)


def test_mixed_line_endings_and_short_rows_in_gzip(tmp_path: Path) -> None:
    text = (
        FOCUS + "EffectiveCost,Tags\r\n"
        '2025-01-01T00:00:00Z,AWS,"EC2\r\nx",Usage,EUR,0.1,0.1,"{}"\r\n'
        "2025-01-01T01:00:00Z,AWS,EC2,Usage,EUR,0.2,0.2\n"
        "2025-01-01T02:00:00Z,AWS,EC2,Usage,EUR,0.3,0.3,\n"
    )
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(InputError, match="mixed CRLF and LF"):
        read_daily([path])
    daily = read_daily([path], lenient=True)
    assert _got(daily.frame) == {(date(2025, 1, 1), "EUR"): Decimal("0.6")}
    kinds = [w.message.split(":")[0] for w in daily.warnings]
    assert kinds == [
        "mixed line endings normalised",
        "padded 1 missing trailing column(s) with NULL (Tags) on 1 row",
    ]
    assert daily.warnings[1].row == 3
    # The CRLF inside the quoted ServiceName is a line break too, and becomes LF.
    assert set(daily.frame.ServiceName) == {"EC2\nx", "EC2"}


def test_line_ending_rewrite_streams_and_keeps_single_style_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_lenient, "_CHUNK", 3)  # CRLF pairs split across chunk boundaries
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(b'a,b\r\n1,2\r\n3,4\n5,"x\r\ny"\r\n')
    out = _lenient.rewrite_line_endings(str(mixed), False, str(tmp_path))
    assert out is not None
    assert Path(out[0]).read_bytes() == b'a,b\n1,2\n3,4\n5,"x\ny"\n'
    assert "4 CRLF and 1 LF line breaks" in out[1].message
    for same in (b"a,b\r\n1,2\r\n", b"a,b\n1,2\n", b"a,b\r1,2\r"):
        single = tmp_path / "s.csv"
        single.write_bytes(same)
        assert _lenient.rewrite_line_endings(str(single), False, str(tmp_path)) is None
    # A file that is not mixed leaves no temp copy behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["m.csv", "s.csv", Path(out[0]).name]
    )


def test_lenient_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        read_daily(["x.csv"], True)  # type: ignore[misc]


SPEC_EXAMPLES = sorted((SHARED / "focus_spec_examples").glob("**/*.csv"))


@needs_shared
def test_focus_spec_worked_examples_are_refused_even_in_lenient_mode() -> None:
    """The 26 worked examples of the FOCUS spec are not read (docs/adapters/README.md says why):
    11 have no ProviderName, ServiceName or BillingCurrency at all, 15 hold spreadsheet text
    ("$10,000.00 ", dates like 4/1/25). Each is refused naming the file, row and field."""
    assert len(SPEC_EXAMPLES) == 26
    reasons: dict[str, int] = defaultdict(int)
    for path in SPEC_EXAMPLES:
        with pytest.raises(InputError) as info:
            read_daily([path], lenient=True)
        err = info.value
        assert err.path == str(path)
        reasons[f"{err.field}: {err.message.split(':')[0]}"] += 1
        if err.field != "ProviderName":
            assert err.row == 2
    assert dict(reasons) == {
        "ProviderName: missing required column ProviderName or ServiceProviderName": 11,
        "BilledCost: not a number": 5,
        "ChargePeriodStart: not an ISO 8601 timestamp": 10,
    }
