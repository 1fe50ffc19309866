"""Exactness check for the reader's two-tier money parse (``focus/_plan.py`` MACROS).

``.venv/bin/python bench/ingest/check_cast.py [--n 300000] [--seed 7]``

The reader parses money text with at most FAST_SCALE fractional digits as a 64-bit
DECIMAL(18, 12) and widens it, and everything else with the 128-bit DECIMAL(38, 24) parse. This
script draws random money texts (plain, exponent form, signs, blanks, long fractions, large
integers, trailing zeros, junk) plus hand-picked edge cases, and checks, value by value, that

- ``cg_num(v, cg_frac_bound(v))`` IS NOT DISTINCT FROM ``TRY_CAST(trim(v) AS DECIMAL(38, 24))``
  (the single exact parse the reader used before), and
- ``cg_too_precise(v, cg_frac_bound(v))`` equals the full digit count test it short-cuts, for
  every text that is a number (for other text the reader reports "not a number" first, as the
  number check precedes the precision check in ``Plan.all_checks``).

Exit 1 and print the first mismatches otherwise.
"""

from __future__ import annotations

import argparse
import random
import sys

import duckdb
import pandas as pd
from costguard_core.focus._plan import MACROS, MONEY_SCALE, MONEY_TYPE

EDGE_CASES = [
    "0", "-0", "0.0", "1", "1.", ".5", "-.5", "+1.5", " 1.5", "1.5 ", " 1.5E-8 ", "1,5", "0x10",
    "1_000.5", "1.000_5", "1e-12", "1e-13", "1E-12", "1.81E-8", "1.3E-9", "5E-9", "5e+20",
    "1.5e+3", "1.5e", "e5", "1e5e5", "NaN", "inf", "-Infinity", "", "  ", "abc",
    "999999.999999999999", "1000000.000000000001", "99999999999999", "123456789012",
    "1234567890123", "0.000000000001", "0.0000000000001", "0.1234567890123456789012",
    "0.12345678901234567890123", "0.123456789012345678901234", "0.1234567890123456789012345",
    "1.000000000000000000000000000000", "1.0E+30", "-3.4028236692093846346337460743177E-7",
    "12345678901234.123456789012345678901234",
]  # fmt: skip


def random_texts(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        int_digits = rng.choice([0, 1, 1, 2, 3, 6, 7, 8, 12, 14, 15])
        frac_digits = rng.choice([0, 1, 2, 4, 8, 10, 11, 12, 13, 16, 22, 24, 25, 30])
        text = "".join(rng.choice("0123456789") for _ in range(int_digits)) or "0"
        if frac_digits or rng.random() < 0.1:
            text += "." + "".join(rng.choice("0123456789") for _ in range(frac_digits))
        if rng.random() < 0.2:
            text += "0" * rng.randint(1, 20)  # trailing zeros change no value
        if rng.random() < 0.3:
            text += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 30))
        if rng.random() < 0.3:
            text = rng.choice("-+") + text
        if rng.random() < 0.05:
            text = rng.choice([" ", "  "]) + text + rng.choice(["", " "])
        if rng.random() < 0.02:
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + rng.choice("x,_.e-") + text[pos:]
        out.append(text)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    texts = EDGE_CASES + random_texts(args.n, random.Random(args.seed)) + [None]
    with duckdb.connect() as con:
        for macro in MACROS:
            con.execute(macro)
        con.register("texts_df", pd.DataFrame({"v": pd.Series(texts, dtype=object)}))
        con.execute("CREATE TEMP TABLE texts AS SELECT CAST(v AS VARCHAR) AS v FROM texts_df")
        full_count = (
            "(length(rtrim(regexp_extract(trim(v), '\\.([0-9]*)', 1), '0')) - "
            "coalesce(TRY_CAST(regexp_extract(trim(v), '[eE]([+-]?[0-9]+)$', 1) AS INTEGER), 0))"
        )
        bad = con.execute(
            f"SELECT v, cg_num(v, cg_frac_bound(v)) AS tiered, "
            f"TRY_CAST(trim(v) AS {MONEY_TYPE}) AS exact, "
            f"cg_too_precise(v, cg_frac_bound(v)) AS short_cut, "
            f"coalesce(v IS NOT NULL AND {full_count} > {MONEY_SCALE}, false) AS full_test "
            "FROM texts WHERE tiered IS DISTINCT FROM exact "
            "OR (exact IS NOT NULL AND short_cut <> full_test) "
            "LIMIT 20"
        ).fetchall()
        fast = con.execute(
            "SELECT count(*) FILTER (WHERE cg_frac_bound(v) <= 12), count(*) FROM texts"
        ).fetchone()
    print(f"{len(texts):,} texts, {fast[0]:,} through the 64-bit parse")
    if bad:
        for row in bad:
            print("MISMATCH", row)
        return 1
    print("tiered parse == exact DECIMAL(38, 24) parse, and the precision short-cut agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
