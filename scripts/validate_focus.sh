#!/usr/bin/env bash
# Advisory check of `costguard normalize` output with the FinOps Foundation's focus-validator.
#
# PyPI has only focus-validator 1.0.0 (rules for FOCUS 0.5 and 1.0; we write FOCUS 1.2), so the
# tool is installed into its own venv, never into the project, and its findings are advisory:
# docs/adapters/README.md ("focus-validator") says which are the tool's stale rules.
#
# Usage: scripts/validate_focus.sh [EXPORT...]
#   EXPORT: billing exports to normalize and validate (default: a set of ../shared/data samples).
#   The official FOCUS 1.0 sample is always validated as is, for comparison.
# Env: FV_VENV  venv for the tool (default ${TMPDIR:-/tmp}/costguard-focus-validator; reused)
#      OUT      directory for normalized files and full reports (default: a new temp dir)
# Exit: 0 when every file was normalized and validated (findings or not), 1 when a step failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED="$ROOT/../shared/data"
VENV=${FV_VENV:-${TMPDIR:-/tmp}/costguard-focus-validator}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/focus-validate.XXXXXX")}
OFFICIAL="$SHARED/focus_sample_data/focus_sample_1000.csv"
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/focus-validator" ]; then
  echo "installing focus-validator into $VENV" >&2
  uv venv -q "$VENV"
  # multimethod>=2 breaks its import; pyarrow (for Parquet input) must still support numpy 1.
  uv pip install -q -p "$VENV" 'focus-validator==1.0.0' 'multimethod<2' 'pyarrow<18'
fi
# The tool opens its ISO 4217 list by a path relative to site-packages: run it from there, or
# every file fails BillingCurrency_IsCurrencyCode with FileNotFoundError.
SITE=$("$VENV/bin/python" -c \
  'import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))')

if [ "$#" -eq 0 ]; then
  set -- \
    "$SHARED/focus_sample_data/focus_sample_1000.csv" \
    "$SHARED/focus_converters/aws_cur_sample_anonymous.csv" \
    "$SHARED/focus_converters/oci_cost_report_sample.csv" \
    "$SHARED/azure_finops_toolkit/EA_ActualCost_Small.csv" \
    "$SHARED/koku/gcp/tmp_example_2020-10.csv" \
    "$SHARED/koku/aws/test_cur.csv" \
    "$SHARED/koku/azure/camel_azure_version_2.csv"
fi

validate() {  # $1 label, $2 file: print the failed rules, missing columns apart
  local report="$OUT/$1.report.txt"
  if ! (cd "$SITE" && "$VENV/bin/focus-validator" --data-file "$2" --validate-version 1.0) \
      >"$report" 2>&1 || grep -q '^Traceback' "$report"; then
    echo "$1: focus-validator failed, see $report" >&2
    return 1
  fi
  local missing other
  missing=$(sed -n 's/^\(.*\)_Required failed:$/\1/p' "$report" | paste -sd, -)
  other=$(grep 'failed:$' "$report" | grep -v '_Required failed:$' | sed 's/ failed:$//' |
    paste -sd, -)
  printf '%s\n  missing columns: %s\n  other findings: %s\n' "$1" "${missing:-none}" \
    "${other:-none}"
}

status=0
validate "official-focus-1.0-sample" "$OFFICIAL" || status=1
for export in "$@"; do
  name=$(basename "$export")
  name=${name%%.*}
  # --lenient so that the repairable koku samples are read too; repairs are printed.
  if ! "$ROOT/.venv/bin/costguard" normalize "$export" -o "$OUT/$name.focus.csv" --lenient \
      2>"$OUT/$name.normalize.txt"; then
    echo "$name: costguard normalize failed: $(tail -1 "$OUT/$name.normalize.txt")" >&2
    status=1
    continue
  fi
  validate "$name" "$OUT/$name.focus.csv" || status=1
done
echo "reports in $OUT" >&2
exit "$status"
