"""Canonical FOCUS Tags: one JSON text per tag set, so equal tag sets group together."""

from __future__ import annotations

import ast
import json

EMPTY_TAGS = "{}"


def canonical_tags(raw: str | None) -> str:
    """Return the canonical JSON object text for a FOCUS ``Tags`` value.

    Keys are sorted, separators are compact and non-ASCII is kept as is. Values become strings
    (FOCUS allows key-only tags with a null value: those become ``""``; numbers and booleans
    become their JSON text). ``None``/empty -> ``"{}"``. GCP's label list
    ``[{"key": k, "value": v}, ...]`` becomes ``{k: v}``, and a Python-literal rendering of
    either shape (koku's GCP CSVs write ``[{'key': 'a', 'value': 'b'}]``) is accepted.
    Raises ValueError for text that is not a JSON object of scalar values or such a list.
    """
    if raw is None or not raw.strip():
        return EMPTY_TAGS
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        try:
            parsed = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"Tags is not valid JSON ({exc.msg})") from exc
    if isinstance(parsed, list) and all(
        isinstance(item, dict) and set(item) <= {"key", "value"} and "key" in item
        for item in parsed
    ):
        parsed = {str(item["key"]): item.get("value") for item in parsed}
    if not isinstance(parsed, dict):
        raise ValueError("Tags is not a JSON object")
    tags: dict[str, str] = {}
    for key, value in parsed.items():
        if isinstance(value, dict | list):
            raise ValueError(f"tag {key!r} has a nested value")
        if value is None:
            tags[key] = ""
        elif isinstance(value, str):
            tags[key] = value
        else:
            tags[key] = json.dumps(value)
    return json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
