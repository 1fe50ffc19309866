"""Canonical FOCUS Tags: one JSON text per tag set, so equal tag sets group together."""

from __future__ import annotations

import json

EMPTY_TAGS = "{}"


def canonical_tags(raw: str | None) -> str:
    """Return the canonical JSON object text for a FOCUS ``Tags`` value.

    Keys are sorted, separators are compact and non-ASCII is kept as is. Values become strings
    (FOCUS allows key-only tags with a null value: those become ``""``; numbers and booleans
    become their JSON text). ``None``/empty -> ``"{}"``. Raises ValueError for text that is not a
    JSON object of scalar values.
    """
    if raw is None or not raw.strip():
        return EMPTY_TAGS
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Tags is not valid JSON ({exc.msg})") from exc
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
