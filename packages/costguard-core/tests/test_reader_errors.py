"""Bad input raises InputError naming the file and, where known, the row and field."""

from __future__ import annotations

import csv
import gzip

import pytest
from costguard_core.errors import InputError
from costguard_core.focus import detect_format, read_daily


def _raises(paths, *, row=None, field=None, contains=()) -> InputError:
    with pytest.raises(InputError) as info:
        read_daily(paths)
    err = info.value
    assert err.path == str(paths[0]) and str(paths[0]) in str(err)
    assert err.row == row
    assert err.field == field
    for text in contains:
        assert text in str(err)
    return err


def test_error_message_format():
    err = InputError("not a number: 'abc'", path="x.csv", row=17, field="BilledCost")
    assert str(err) == "x.csv: row 17: field BilledCost: not a number: 'abc'"
    assert str(InputError("file not found", path="y.csv")) == "y.csv: file not found"


def test_missing_file(tmp_path):
    _raises([tmp_path / "nope.csv"], contains=["file not found"])


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _raises([empty], contains=["empty file"])
    with pytest.raises(InputError, match="empty file"):
        detect_format(empty)


def test_header_only_file_has_no_rows(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "h.csv", [], header=list(focus_row()))
    _raises([path], contains=["no data rows"])


def test_unknown_header(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Day,Meter,Amount\n2023-09-02,VM,1.5\n")
    _raises([path], row=1, contains=["unknown header", "Meter"])


def test_azure_export_without_currency_names_the_field(tmp_path):
    path = tmp_path / "azure.csv"
    path.write_text("Date,MeterCategory,CostInBillingCurrency\n2023-09-02,VM,1.5\n")
    _raises([path], field="BillingCurrency", contains=["missing required column"])


def test_truncated_csv_last_line_cut_mid_row(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "t.csv", [focus_row(), focus_row(), focus_row()])
    text = path.read_text()
    path.write_text(text[: text.rstrip("\n").rfind(",US")])  # cut inside the 4th line
    _raises([path], row=4, contains=["expected 14 fields", "truncated"])


def test_truncated_csv_unterminated_quote(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "q.csv", [focus_row(), focus_row(Tags='{"env": "prod"}')])
    text = path.read_text()
    path.write_text(text[: text.rfind("prod")])  # stream ends inside the quoted Tags field
    _raises([path], row=3, contains=["unterminated quoted field"])


def test_truncated_gzip_stream(tmp_path, focus_sample):
    packed = gzip.compress(focus_sample.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError) as info:
        read_daily([path])
    assert str(path) in str(info.value)


def test_focus_without_billed_cost(tmp_path, focus_row, write_csv):
    row = focus_row()
    del row["BilledCost"]
    path = write_csv(tmp_path / "f.csv", [row])
    _raises([path], field="BilledCost", contains=["missing required column BilledCost"])


def _cur_rows(cur_sample, count: int) -> tuple[list[str], list[list[str]]]:
    with cur_sample.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [next(reader) for _ in range(count)]


def _write_rows(path, header, rows):
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_cur_without_unblended_cost(tmp_path, cur_sample):
    header, rows = _cur_rows(cur_sample, 3)
    drop = header.index("lineItem/UnblendedCost")
    cut = [[c for i, c in enumerate(r) if i != drop] for r in [header, *rows]]
    path = _write_rows(tmp_path / "cur.csv", cut[0], cut[1:])
    _raises([path], field="lineItem/UnblendedCost", contains=["missing required column"])


def test_non_numeric_cost_names_row_field_and_value(tmp_path, focus_row, write_csv):
    rows = [focus_row() for _ in range(20)]
    rows[15] = focus_row(EffectiveCost="abc")  # data row 16 -> row 17 (header is row 1)
    path = write_csv(tmp_path / "n.csv", rows)
    err = _raises([path], row=17, field="EffectiveCost", contains=["not a number: 'abc'"])
    assert str(err) == f"{path}: row 17: field EffectiveCost: not a number: 'abc'"


def test_non_numeric_cost_in_cur(tmp_path, cur_sample):
    header, rows = _cur_rows(cur_sample, 9)
    rows[2][header.index("lineItem/UnblendedCost")] = "1.2.3"
    path = _write_rows(tmp_path / "cur.csv", header, rows)
    _raises([path], row=4, field="lineItem/UnblendedCost", contains=["not a number: '1.2.3'"])


def test_empty_mandatory_cost_is_an_error_not_zero(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "e.csv", [focus_row(), focus_row(BilledCost="NULL")])
    _raises([path], row=3, field="BilledCost", contains=["empty cost"])


def test_cost_with_more_places_than_kept_is_refused(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "p.csv", [focus_row(BilledCost="1.5E-30")])
    _raises([path], row=2, field="BilledCost", contains=["decimal places"])


def test_two_currencies_in_one_file(tmp_path, focus_row, write_csv):
    rows = [focus_row(), focus_row(), focus_row(BillingCurrency="EUR"), focus_row()]
    path = write_csv(tmp_path / "c.csv", rows)
    _raises([path], row=4, field="BillingCurrency", contains=["EUR", "USD"])


def test_bad_timestamp(tmp_path, focus_row, write_csv):
    path = write_csv(tmp_path / "d.csv", [focus_row(ChargePeriodStart="4/1/25")])
    _raises([path], row=2, field="ChargePeriodStart", contains=["ISO 8601", "'4/1/25'"])


def test_bad_tags_json(tmp_path, focus_row, write_csv):
    rows = [focus_row(), focus_row(Tags="{not json")]
    path = write_csv(tmp_path / "g.csv", rows)
    _raises([path], row=3, field="Tags", contains=["not valid JSON"])


def test_error_names_the_bad_file_among_several(tmp_path, focus_sample, focus_row, write_csv):
    bad = write_csv(tmp_path / "bad.csv", [focus_row(BilledCost="x")])
    with pytest.raises(InputError) as info:
        read_daily([focus_sample, bad])
    assert info.value.path == str(bad) and info.value.row == 2


def test_no_paths():
    with pytest.raises(ValueError, match="at least one path"):
        read_daily([])
