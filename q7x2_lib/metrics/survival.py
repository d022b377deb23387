"""Time to attractor: at which turn each run first reaches an event, runs that never do censored.

An event is anything a researcher can flag per message (the first ``[END]`` marker, the start of
a loop, a collapse to near-silence, entering the basin the run ends in, or any boolean column of
their own). Each run gives one duration per event: the turn of its first flagged message, or its
last turn when no message is flagged, marked censored (the run stopped before the event could
be seen, which is not the same as never). Kaplan–Meier curves (lifelines) estimate the share of
runs that have not yet reached the event by each turn, with Greenwood confidence bands, per
model pair or per model; the log-rank test asks whether groups differ.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .._core.validate import (
    check_choice,
    check_fraction,
    messages_metric,
    messages_seen,
    positions,
)
from .overview import model_pairs

__all__ = ["EVENTS", "attractor_events", "event_times", "kaplan_meier",
           "logrank_tests", "survival_at"]

EVENTS = ("end marker", "loop", "collapse", "basin")
"""The events :func:`attractor_events` can find."""

_EVENT_COLUMNS = ["event", "conversation_id", "model_pair", "models", "turn", "duration",
                  "observed", "n_messages"]


@contextlib.contextmanager
def _quiet_lifelines() -> Iterator[None]:
    """lifelines 0.30 calls pandas in ways pandas 3 warns about (positional ``sum`` arguments);
    the numbers are right, so those warnings are not the user's to read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _models(m: pd.DataFrame) -> pd.Series:
    col = "model" if "model" in m.columns else "speaker"
    who = m[col].astype("string").fillna(m["speaker"].astype("string"))
    return who.groupby(m["conversation_id"].astype(str), sort=False).agg(
        lambda s: " | ".join(sorted(dict.fromkeys(s.dropna()))))


@messages_metric
def event_times(messages: pd.DataFrame, flags: Mapping[str, object], *,
                include_seed: bool = False) -> pd.DataFrame:
    """The turn of each run's first flagged message, per event; censored at the last turn.

    Parameters
    ----------
    messages
        The messages table.
    flags
        ``{event name: flags}``; flags are a boolean column name of ``messages``, or a boolean
        array or Series with one value per message of ``messages`` (seed included, in order).
        Durations are turns (the message index the table carries).

    Returns
    -------
    DataFrame
        One row per event and conversation: ``event``, ``conversation_id``, ``model_pair``,
        ``models`` (the conversation's models, ``" | "``-joined), ``turn`` (of the first
        flagged message, or the last turn when censored), ``duration`` (messages up to and
        including that one: the time the curves are drawn on), ``observed`` (bool),
        ``n_messages``.
    """
    messages_seen(messages, func="event_times", include_seed=include_seed)
    full = messages.reset_index(drop=True)
    columns = {}
    for k, (name, value) in enumerate(flags.items()):
        if isinstance(value, str):
            if value not in full.columns:
                raise ValueError(f"flags[{name!r}]: no column {value!r} in messages")
            raw = full[value]
        else:
            raw = value if isinstance(value, pd.Series) else pd.Series(np.asarray(value))
            if len(raw) != len(full):
                raise ValueError(f"flags[{name!r}]: {len(raw)} values for {len(full)} messages")
        columns[f"__flag_{k}"] = pd.Series(raw).reset_index(drop=True).fillna(False).astype(bool)
    m = messages_seen(full.assign(**columns), func="event_times", include_seed=include_seed)
    pairs = model_pairs(m, include_seed=True)
    models = _models(m)
    rows = []
    ids = m["conversation_id"].astype(str).to_numpy()
    turns = m["turn"].to_numpy(dtype=np.int64)
    pos = positions(m) if len(m) else np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(pos == 0)
    bounds = list(zip(starts, [*starts[1:], len(m)], strict=False))
    for k, name in enumerate(flags):
        flag = m[f"__flag_{k}"].to_numpy(dtype=bool)
        for a, b in bounds:
            hit = np.flatnonzero(flag[a:b])
            observed = len(hit) > 0
            at = a + hit[0] if observed else b - 1
            rows.append((str(name), ids[a], turns[at], at - a + 1, observed, b - a))
    out = pd.DataFrame(rows, columns=["event", "conversation_id", "turn", "duration",
                                      "observed", "n_messages"])
    out.insert(2, "model_pair", pairs.reindex(out["conversation_id"]).to_numpy())
    out.insert(3, "models", models.reindex(out["conversation_id"]).to_numpy())
    out = out[_EVENT_COLUMNS]
    for col in ("event", "conversation_id", "model_pair", "models"):
        out[col] = out[col].astype("string")
    return out.astype({"turn": "int64", "duration": "int64", "observed": "bool",
                       "n_messages": "int64"})


@messages_metric
def attractor_events(
    messages: pd.DataFrame, *, events: Sequence[str] = ("end marker", "loop", "collapse"),
    loops_table: pd.DataFrame | None = None, basins=None, collapse_threshold: float = 5,
    collapse_window: int = 4, include_seed: bool = False,
) -> pd.DataFrame:
    """:func:`event_times` for the standard events (``EVENTS``).

    ``"end marker"``: the first message that is an end marker or ends with one. ``"loop"``:
    the first message of the run's loop (:func:`q7x2_lib.loops`, ``loop_start_turn``; pass
    ``loops_table`` to reuse one). ``"collapse"``: the turn from which the run stays collapsed
    into short messages to its end (:func:`q7x2_lib.collapse_turn` with ``collapse_threshold``
    words and ``collapse_window``, the definition of notebook 01). ``"basin"``: the
    turn the run enters the basin it ends in and stays (``basins``, a
    :class:`q7x2_lib.Basins`: ``entry_turn``; censored when it did not stay long enough).
    """
    for e in events:
        check_choice("events", e, EVENTS)
    messages_seen(messages, func="attractor_events")
    full = messages.reset_index(drop=True)
    flags: dict[str, object] = {}
    ids = full["conversation_id"].astype(str)
    turns = full["turn"].to_numpy(dtype=np.int64)

    def at(first: pd.Series) -> np.ndarray:
        want = ids.map(first.dropna().astype("int64"))
        return (want.notna() & (want.to_numpy(dtype=float, na_value=np.nan) == turns)
                ).to_numpy(bool) if len(full) else np.zeros(0, dtype=bool)

    for e in events:
        if e == "end marker":
            flags[e] = (full["is_end_marker"].fillna(False).to_numpy(bool)
                        | full["ends_with_end_marker"].fillna(False).to_numpy(bool))
        elif e == "loop":
            if loops_table is None:
                from .attractors.loops import loops
                loops_table = loops(full, include_seed=include_seed)
            lt = loops_table[loops_table["has_loop"].astype(bool)]
            flags[e] = at(lt.set_index(lt["conversation_id"].astype(str))["loop_start_turn"])
        elif e == "collapse":
            from .length import collapse_turn
            ct = collapse_turn(full, threshold=collapse_threshold, window=collapse_window,
                               include_seed=include_seed)
            flags[e] = at(ct.set_index(ct["conversation_id"].astype(str))["collapse_turn"])
        else:
            if basins is None:
                raise ValueError("events: 'basin' needs basins=q7.basins(messages)")
            a = basins.assignments
            flags[e] = at(a.set_index(a["conversation_id"].astype(str))["entry_turn"])
    return event_times(full, flags, include_seed=include_seed)


def _by_column(events: pd.DataFrame, by: str) -> pd.DataFrame:
    check_choice("by", by, ("model_pair", "model", None))
    if by is None:
        return events.assign(group="all")
    if by == "model_pair":
        return events.assign(group=events["model_pair"].astype(str))
    one = events.assign(group=events["models"].astype(str).str.split(" | ", regex=False))
    return one.explode("group", ignore_index=True)


def kaplan_meier(events: pd.DataFrame, *, by: str | None = "model_pair", ci: float = 0.95
                 ) -> pd.DataFrame:
    """Kaplan–Meier estimate of the share of runs that have not yet reached each event.

    ``events`` is :func:`event_times` or :func:`attractor_events`. ``by="model"`` counts a
    conversation once for each model in it (a self-play run once).

    Returns
    -------
    DataFrame
        ``event``, ``group``, ``messages`` (into the run), ``survival`` (share not yet
        reached), ``ci_low``, ``ci_high`` (Greenwood exponential band at ``ci``), ``at_risk``,
        ``reached`` (runs reaching the event at this message), ``censored``; a row at 0 with
        survival 1 starts every curve.
    """
    from lifelines import KaplanMeierFitter

    check_fraction("ci", ci)
    table = _by_column(events, by)
    parts = []
    for (event, group), g in table.groupby(["event", "group"], sort=True, observed=True):
        kmf = KaplanMeierFitter(alpha=1 - ci)
        with _quiet_lifelines():
            kmf.fit(g["duration"].to_numpy(float), g["observed"].to_numpy(bool))
        sf = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_survival_function_
        tab = kmf.event_table
        parts.append(pd.DataFrame({
            "event": event, "group": group, "messages": sf.index.to_numpy(dtype=np.int64),
            "survival": sf.to_numpy(), "ci_low": band.iloc[:, 0].to_numpy(),
            "ci_high": band.iloc[:, 1].to_numpy(),
            "at_risk": tab["at_risk"].reindex(sf.index).fillna(len(g)).to_numpy(np.int64),
            "reached": tab["observed"].reindex(sf.index).fillna(0).to_numpy(np.int64),
            "censored": tab["censored"].reindex(sf.index).fillna(0).to_numpy(np.int64),
        }))
    cols = ["event", "group", "messages", "survival", "ci_low", "ci_high", "at_risk", "reached",
            "censored"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    out = out[cols]
    for col in ("event", "group"):
        out[col] = out[col].astype("string")
    return out.round({"survival": 4, "ci_low": 4, "ci_high": 4})


def survival_at(curves: pd.DataFrame, messages: int) -> pd.DataFrame:
    """Each curve's survival (with its band) ``messages`` into the run: the step read there."""
    rows = []
    for (event, group), g in curves.groupby(["event", "group"], sort=True, observed=True):
        upto = g[g["messages"] <= messages]
        last = upto.iloc[-1] if len(upto) else g.iloc[0]
        rows.append({"event": event, "group": group, "messages": messages,
                     "survival": last["survival"], "ci_low": last["ci_low"],
                     "ci_high": last["ci_high"]})
    return pd.DataFrame(rows, columns=["event", "group", "messages", "survival", "ci_low",
                                       "ci_high"])


def logrank_tests(events: pd.DataFrame, *, by: str = "model_pair", min_runs: int = 3
                  ) -> pd.DataFrame:
    """Log-rank test per event: do the groups reach it at different rates?

    Only groups of at least ``min_runs`` runs enter the test (a curve of one run says little);
    ``n_groups`` counts those.

    Returns
    -------
    DataFrame
        ``event``, ``n_groups`` and ``n_runs`` (tested), ``n_reached`` (of all runs),
        ``statistic`` (chi-squared),
        ``df``, ``p_value`` (NaN with fewer than two groups), ``median_turns`` (each group's
        median messages to the event, ``group: n``, "never" when its curve stays above 0.5).
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    table = _by_column(events, by)
    rows = []
    for event, g in table.groupby("event", sort=True, observed=True):
        groups = g["group"].astype(str)
        medians = []
        for name, h in g.groupby(groups, sort=True):
            with _quiet_lifelines():
                kmf = KaplanMeierFitter().fit(h["duration"].to_numpy(float),
                                              h["observed"].to_numpy(bool))
            med = kmf.median_survival_time_
            medians.append(f"{name}: {'never' if not np.isfinite(med) else int(med)}")
        stat = df = p = np.nan
        sizes = groups.value_counts()
        tested = groups.isin(sizes.index[sizes >= min_runs]).to_numpy()
        t = g[tested]
        if groups[tested].nunique() >= 2 and t["observed"].any():
            with _quiet_lifelines():
                res = multivariate_logrank_test(t["duration"].to_numpy(float),
                                                groups[tested].to_numpy(),
                                                t["observed"].to_numpy(bool))
            stat, df, p = float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value)
        rows.append({"event": event, "n_groups": int(groups[tested].nunique()),
                     "n_runs": int(tested.sum()),
                     "n_reached": int(g["observed"].sum()), "statistic": stat, "df": df,
                     "p_value": p, "median_turns": "; ".join(medians)})
    out = pd.DataFrame(rows, columns=["event", "n_groups", "n_runs", "n_reached", "statistic",
                                      "df", "p_value", "median_turns"])
    for col in ("event", "median_turns"):
        out[col] = out[col].astype("string")
    return out.round({"statistic": 3})
