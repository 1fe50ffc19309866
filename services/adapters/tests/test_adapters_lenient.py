"""The file-based adapters' ``lenient`` and ``max_bad_rows`` settings on koku's malformed samples,
and the clear error (not a stack trace) for a currency the backend cannot store."""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest
from costguard_adapters.config import PollerConfig
from costguard_adapters.poller import Poller
from costguard_adapters.registry import load_all
from costguard_core.client import BackendClient
from costguard_core.errors import InputError

adapters = load_all()
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")
NOVEMBER = SHARED / "koku" / "aws" / "November-2023-None.csv"
MC = SHARED / "koku" / "azure" / "azure_version_2.csv"


@pytest.mark.parametrize("adapter", ["file", "focus", "aws-cur", "azure"])
def test_max_bad_rows_setting_is_documented_and_needs_lenient(adapter: str) -> None:
    cls = adapters.get(adapter)
    key = "export_paths" if adapter == "azure" else "paths"
    props = cls.Settings.model_json_schema()["properties"]
    assert props["max_bad_rows"]["default"] == 0 and props["max_bad_rows"]["description"]
    assert cls.Settings.model_validate({key: ["x.csv"]}).max_bad_rows == 0
    with pytest.raises(pydantic.ValidationError, match="max_bad_rows needs lenient: true"):
        cls.Settings.model_validate({key: ["x.csv"], "max_bad_rows": 2})
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 0"):
        cls.Settings.model_validate({key: ["x.csv"], "lenient": True, "max_bad_rows": -1})


@needs_shared
@pytest.mark.parametrize("adapter", ["file", "aws-cur"])
def test_bad_rows_are_logged_with_their_cost_and_not_ingested(adapter: str, caplog) -> None:
    settings = {"paths": [str(NOVEMBER)], "lenient": True}
    with pytest.raises(InputError, match="row 7: field lineItem/UnblendedCost: not a number"):
        list(adapters.build(adapter, settings).pull(None, None))
    with caplog.at_level("WARNING", logger="costguard.adapters"):
        rows = list(adapters.build(adapter, {**settings, "max_bad_rows": 2}).pull(None, None))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"lenient read rejected {NOVEMBER}: row 7: field lineItem/UnblendedCost: not a number: "
        "'BoxUsage:m5.large' (not summed; lineItem/UnblendedCost as given: 'BoxUsage:m5.large')",
        f"lenient read rejected {NOVEMBER}: row 27: field savingsPlan/SavingsPlanEffectiveCost: "
        "empty or missing, but SavingsPlanCoveredUsage lines need it for EffectiveCost "
        "(not summed; lineItem/UnblendedCost as given: '0.013910122499148437')",
    ]
    want: dict[date, Decimal] = defaultdict(Decimal)
    with open(NOVEMBER, newline="") as fh:
        for rn, rec in enumerate(csv.DictReader(fh), start=2):
            if rn not in (7, 27):
                day = datetime.fromisoformat(rec["lineItem/UsageStartDate"]).date()
                want[day] += Decimal(rec["lineItem/UnblendedCost"])
    got: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        got[row.ChargePeriodStart] += row.BilledCost
    assert dict(got) == dict(want)


@needs_shared
@pytest.mark.parametrize("adapter", ["file", "azure"])
def test_a_non_iso_currency_is_refused_naming_file_and_currency(adapter: str) -> None:
    key = "export_paths" if adapter == "azure" else "paths"
    with pytest.raises(InputError, match="not a 3-letter ISO 4217 currency code: 'MC'"):
        list(adapters.build(adapter, {key: [str(MC)]}).pull(None, None))
    with pytest.raises(InputError) as info:
        list(adapters.build(adapter, {key: [str(MC)], "lenient": True}).pull(None, None))
    err = info.value
    assert (err.path, err.field) == (str(MC), "BillingCurrency")
    assert err.message.startswith("currency 'MC' is not a 3-letter ISO 4217 code")
    assert "cannot be posted" in err.message


@needs_shared
def test_poller_logs_bad_input_in_one_line_without_a_stack_trace(tmp_path: Path, caplog) -> None:
    config = PollerConfig.model_validate(
        {
            "sources": [
                {
                    "name": "koku-mc",
                    "adapter": "file",
                    "settings": {"paths": [str(MC)], "lenient": True},
                }
            ]
        }
    )
    # Nothing is ever posted: the pull fails before any batch is spooled.
    client = BackendClient("http://127.0.0.1:9", "unused")
    try:
        with caplog.at_level("WARNING", logger="costguard.adapters"):
            assert Poller(config, client, tmp_path).run_due(0.0, force=True) is False
    finally:
        client.close()
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is None
    assert record.getMessage().startswith(
        f"poll of koku-mc failed; will retry next cycle: {MC}: field BillingCurrency: "
        "currency 'MC' is not a 3-letter ISO 4217 code"
    )
