"""Corpus overview tables: one row per conversation with its pair, size, duration and words."""

from __future__ import annotations

import pandas as pd

from .._core.validate import SEEN_COLUMNS, messages_metric, messages_seen, require_columns

__all__ = ["conversation_overview", "model_pairs", "words_per_speaker"]


@messages_metric
def words_per_speaker(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.DataFrame:
    """Words and messages per conversation and speaker.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``speaker``, ``n_messages``, ``n_words``, in order of appearance.
    """
    require_columns(messages, (*SEEN_COLUMNS, "n_words"), func="words_per_speaker")
    m = messages if include_seed else messages[~messages["is_seed"].to_numpy(dtype=bool)]
    return (m.groupby(["conversation_id", "speaker"], sort=False, observed=True)
             .agg(n_messages=("turn", "size"), n_words=("n_words", "sum"))
             .reset_index())


def conversation_overview(conversations: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """One readable row per conversation.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``pair`` (the title), ``format``, ``n_messages``, ``duration_s``,
        ``words`` (``"speaker: n"`` for each speaker, seed excluded), ``n_words``.
    """
    per = words_per_speaker(messages)
    label = per["speaker"] + ": " + per["n_words"].astype("string")
    words = label.groupby(per["conversation_id"], sort=False).agg("; ".join).rename("words")
    totals = per.groupby("conversation_id")["n_words"].sum().rename("n_words")
    out = conversations[["conversation_id", "title", "format", "n_messages", "duration_s"]]
    out = out.rename(columns={"title": "pair"}).merge(words, on="conversation_id", how="left")
    out = out.merge(totals, on="conversation_id", how="left")
    out["n_words"] = out["n_words"].fillna(0).astype("int64")
    return out


@messages_metric
def model_pairs(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.Series:
    """The model pair of each conversation: the models of its speakers, sorted, joined by " ↔ ".

    Each speaker counts once, so self-play (two speakers of one model) reads "GPT-5 ↔ GPT-5".
    """
    # Only the columns it reads, and each (conversation, speaker) once: the join runs per
    # conversation on a handful of names, not on every message.
    m = messages_seen(messages, func="model_pairs", include_seed=include_seed, columns=("model",))
    speakers = m.drop_duplicates(["conversation_id", "speaker"])
    pairs = speakers.groupby("conversation_id", sort=False)["model"].agg(
        lambda s: " ↔ ".join(sorted(s)))
    return pairs.astype("string").rename("model_pair")
