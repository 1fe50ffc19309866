"""One incident, one anomaly, across the detective's two paths and its passes.

Anomaly ids are fingerprints (``detection.fingerprint(scope, start)``): a daily anomaly's is
that of its scope and start day; an hourly anomaly's is that of its *first raise* (the scope the
first checkpoint that showed it saw), while its figures and scope come from the fullest view of
its start day. So one incident can reach a pass under two ids — the daily path's and the hourly
path's, when their scopes differ — or under a new id on a later pass (the daily path on the
completed day). The rule applied before posting (``one_per_incident``):

1. A candidate whose id the backend already holds is posted again (once per pass, though both
   paths may give it): the backend answers the stored anomaly, so a repeated pass creates
   nothing (as before hourly data); when the candidate ends later (the incident went on), the
   backend revises the stored end, figures and root causes to it (session 11).
2. Otherwise a candidate that is the **same incident** as an anomaly already stored, or posted
   earlier in the pass, is not posted. Same incident, as the detector itself decides it
   (``detect``'s cooldown, ``detect_hourly``'s merge): same currency, top leaves that meet
   (``detection.feedback.top_leaves``: the leading root causes covering 80 % of the share, at
   most 3) and windows no more than ``cooldown_days`` apart (each starts no later than
   ``cooldown_days`` after the other ends).
3. Candidates are taken hourly first (by ``detected_at``), then daily, so an incident both paths
   see for the first time in one pass is posted once, with the hourly id and ``detected_at``.

A stored anomaly changes only through rule 1 (same id, later end); a same-incident candidate
under another id (rule 2) is left out and does not revise it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from costguard_core.client import BackendClient
from costguard_core.detection.feedback import top_leaves
from costguard_core.models import AnomalyBase, AnomalyCreate, AnomalyPublic

from costguard_agents.detective.frames import currency_of

_PAGE = 500


def same_incident(a: AnomalyBase, b: AnomalyBase, cooldown_days: int) -> bool:
    """Whether ``a`` and ``b`` are one incident (rule 2 of the module docstring)."""
    if currency_of(a) != currency_of(b):
        return False
    if not top_leaves(a.root_causes) & top_leaves(b.root_causes):
        return False
    gap = timedelta(days=cooldown_days)
    return a.start <= b.end + gap and b.start <= a.end + gap


def one_per_incident(
    candidates: Sequence[AnomalyCreate], stored: Iterable[AnomalyBase], cooldown_days: int
) -> tuple[list[AnomalyCreate], list[tuple[AnomalyCreate, str]]]:
    """``(to post, [(left out, id of the anomaly it repeats), ...])`` for ``candidates`` in the
    given order (hourly first) against the ``stored`` anomalies."""
    known: list[AnomalyBase] = list(stored)
    ids = {a.id for a in known}
    post: list[AnomalyCreate] = []
    left_out: list[tuple[AnomalyCreate, str]] = []
    for candidate in candidates:
        if candidate.id in ids:
            if all(p.id != candidate.id for p in post):  # each id once per pass
                post.append(candidate)
            continue
        same = next((k for k in known if same_incident(k, candidate, cooldown_days)), None)
        if same is not None:
            left_out.append((candidate, same.id))
            continue
        post.append(candidate)
        known.append(candidate)
        ids.add(candidate.id)
    return post, left_out


def stored_anomalies(client: BackendClient, start_from: date) -> list[AnomalyPublic]:
    """Every stored anomaly starting on or after ``start_from`` (all pages)."""
    return client.all_anomalies(start_from=start_from, page_size=_PAGE)
