"""Attractor states: near repeats, loops, recurrence matrices and end-state labels."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._chunks import by_conversation
from .drift import _check_positive, _generated, _positions, load_lexicon, theme_hits, theme_patterns
from .stats import in_threads
from .text import EMOJI_RE, char_ngram_matrix, is_emoji, normal_form, tokenize

__all__ = [
    "END_STATES",
    "end_state_shares",
    "end_states",
    "example_conversations",
    "loop_overview",
    "loops",
    "model_pairs",
    "near_repeats",
    "recurrence_matrices",
    "recurrence_matrix",
    "repeat_share_by_turn",
]

END_STATES = (
    "end-marker ping-pong",
    "silence collapse",
    "emoji collapse",
    "fixed-point loop",
    "periodic loop",
    "refusal or disengagement",
    "farewell loop",
    "still open",
)
"""End-state labels in the order their rules are tried; the first that applies wins."""

_FAREWELL, _REFUSAL = "farewell", "refusal"
_MIN_TAIL_MESSAGES = 2  # a share rule needs two messages: one message is a moment, not a state
_LETTER_OR_DIGIT_RE = re.compile(r"[^\W_]")
# "[Empty response]", "(no reply)", "[Silence held]", "[No further messages]": a short note in
# brackets or parentheses that says nothing is being said.
_PLACEHOLDER_RE = re.compile(
    r"[\[(][^\])]{0,20}\b(?:empty|silen\w*|quiet|nothing|blank|pause\w*|no (?:further )?"
    r"(?:response|reply|replies|messages?|words|output|content))\b[^\])]{0,40}[\])]"
)
# "Silence.", "*silent*", "(pause)": one word of silence on its own.
_SILENT_WORD_RE = re.compile(r"\(?(?:silence|silent|quiet|stillness|nothing|pause)\)?[.!…]*")
_SPACE_RE = re.compile(r"\s+")


# --- near repeats ----------------------------------------------------------------------------


def _check_share(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")


def _check_options(lookback: int, threshold: float, ngram: int) -> None:
    _check_positive("lookback", lookback)
    _check_share("threshold", threshold)
    _check_positive("ngram", ngram)


def _set_cosine(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|A ∩ B| / sqrt(|A| |B|); 1 for two empty sets, 0 when only one is empty."""
    denom = np.sqrt(size_a.astype(float) * size_b)
    both_empty = (size_a == 0) & (size_b == 0)
    out = np.divide(inter, denom, out=np.where(both_empty, 1.0, 0.0), where=denom > 0)
    return np.clip(out, 0.0, 1.0)


_CHUNK_CHARS = 1 << 21  # characters of normal forms per chunk of conversations: bounds memory


def _chunks(m: pd.DataFrame, pos: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of whole conversations, each about ``_CHUNK_CHARS`` characters of text."""
    starts = np.flatnonzero(pos == 0)
    chars = np.cumsum(m["text"].str.len().to_numpy(dtype=np.int64, na_value=0))
    chars_before = np.r_[0, chars][starts]
    bounds, first = [], 0
    while first < len(starts):
        last = max(first + 1, int(np.searchsorted(chars_before, chars_before[first]
                                                  + _CHUNK_CHARS, side="right")))
        bounds.append(int(starts[first]))
        first = last
    return list(zip(bounds, [*bounds[1:], len(m)], strict=True))


def _gram_sets(forms: list[str], n: int) -> sp.csr_matrix:
    """Binary matrix of the character ``n``-gram sets of ``forms`` in canonical CSR form
    (sorted, distinct column indices per row; int8 data), as :func:`char_ngram_matrix`.

    Code points are renumbered densely (0 pads a form shorter than ``n``), so an n-gram packs
    into one column index below ``2**31``; when it does not, ``char_ngram_matrix`` is used.
    """
    lengths = np.fromiter(map(len, forms), dtype=np.int64, count=len(forms))
    points = np.frombuffer("".join(forms).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    present = np.zeros(0x110001, dtype=bool)
    present[points] = True
    ids = np.cumsum(present, dtype=np.int64)  # code point -> 1 + its rank among those present
    bits = max(1, int(ids[-1]).bit_length())
    if n > 3 or n * bits > 31:
        grams = char_ngram_matrix(forms, n).astype(np.int8)
        grams.sort_indices()
        return grams
    ids = np.r_[ids[points], np.zeros(n, dtype=np.int64)]
    key = np.concatenate([_long_grams(ids, lengths, n, bits), _short_grams(ids, lengths, n, bits)])
    key.sort()
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    indptr = np.r_[0, np.cumsum(np.bincount(key >> (n * bits), minlength=len(forms)))]
    columns = (key & ((1 << (n * bits)) - 1)).astype(np.int32)
    return sp.csr_matrix((np.ones(len(key), dtype=np.int8), columns, indptr.astype(np.int64)),
                         shape=(len(forms), 1 << (n * bits)))


def _long_grams(ids: np.ndarray, lengths: np.ndarray, n: int, bits: int) -> np.ndarray:
    """``row << (n * bits) | gram`` for every n-gram of the forms at least ``n`` long."""
    total = len(ids) - n
    grams = np.zeros(total, dtype=np.int64)
    for k in range(n):  # the gram starting at each character, built from shifted copies
        grams |= ids[k : total + k] << ((n - 1 - k) * bits)
    valid = np.ones(total, dtype=bool)
    ends = np.cumsum(lengths)
    for k in range(1, n):  # grams that run past the end of their form
        valid[ends[lengths >= k] - k] = False
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    return (row[valid] << (n * bits)) | grams[valid]


def _short_grams(ids: np.ndarray, lengths: np.ndarray, n: int, bits: int) -> np.ndarray:
    """``row << (n * bits) | gram`` for the forms shorter than ``n``: one gram, 0-padded."""
    rows = np.flatnonzero((lengths > 0) & (lengths < n))
    starts = np.r_[0, np.cumsum(lengths)[:-1]][rows]
    key = rows.astype(np.int64) << (n * bits)
    for k in range(n):
        key |= np.where(k < lengths[rows], ids[starts + k], 0) << ((n - 1 - k) * bits)
    return key


def _row_slice(grams: sp.csr_matrix, start: int, stop: int) -> sp.csr_matrix:
    lo, hi = grams.indptr[start], grams.indptr[stop]
    return sp.csr_matrix((grams.data[lo:hi], grams.indices[lo:hi],
                          grams.indptr[start:stop + 1] - lo), shape=(stop - start, grams.shape[1]))


def _chunk_similarities(forms: list[str], pos: np.ndarray, lookback: int, ngram: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, exact)`` of one chunk of whole conversations, as in _lag_similarities."""
    grams = _gram_sets(forms, ngram)
    sizes = np.diff(grams.indptr)
    codes, _ = pd.factorize(np.asarray(forms, dtype=object))
    n = len(forms)
    sim = np.full((n, lookback), np.nan)
    exact = np.zeros((n, lookback), dtype=bool)
    for lag in range(1, min(lookback, n - 1) + 1):
        # Row r of the product: the n-grams message r shares with message r - lag.
        product = _row_slice(grams, lag, n).multiply(_row_slice(grams, 0, n - lag)).tocsr()
        inter = np.diff(product.indptr)
        ok = pos[lag:] >= lag
        rows = np.flatnonzero(ok) + lag
        sim[rows, lag - 1] = _set_cosine(inter[ok], sizes[rows], sizes[rows - lag])
        exact[rows, lag - 1] = codes[rows] == codes[rows - lag]
    return sim, exact


def _lag_similarities(
    m: pd.DataFrame, lookback: int, ngram: int
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity of each message with each of the ``lookback`` before it (NaN: none).

    Returns ``(similarity, exact)``: two ``n x lookback`` arrays (column ``l - 1`` for lag
    ``l``). Conversations are handled in chunks of about ``_CHUNK_CHARS`` characters, so memory
    stays flat however large the corpus.
    """
    pos = _positions(m)
    texts = m["text"].fillna("")
    sim = np.full((len(m), lookback), np.nan)
    exact = np.zeros((len(m), lookback), dtype=bool)

    def fill(bounds: tuple[int, int]) -> None:
        start, stop = bounds
        # Each distinct text once: loops and end markers repeat many messages verbatim.
        codes, uniques = pd.factorize(texts.iloc[start:stop], sort=False)
        forms = np.asarray([normal_form(t) for t in uniques.tolist()], dtype=object)[codes].tolist()
        sim[start:stop], exact[start:stop] = _chunk_similarities(forms, pos[start:stop],
                                                                 lookback, ngram)

    # Chunks write their own rows; one chunk's numpy work overlaps another's normal forms.
    in_threads(fill, _chunks(m, pos))
    return sim, exact


@by_conversation
def near_repeats(
    messages: pd.DataFrame, *, lookback: int = 6, threshold: float = 0.8, ngram: int = 3,
    include_seed: bool = False,
) -> pd.DataFrame:
    """Whether each message repeats one of the ``lookback`` messages before it.

    Messages are compared in normal form (:func:`q7x2_lib.text.normal_form`: case, whitespace,
    markdown emphasis and end markers removed). Exact repeat: equal normal forms. Near repeat:
    the cosine similarity of the sets of character ``ngram``-grams of the two normal forms,
    ``|A ∩ B| / sqrt(|A| |B|)``, is at least ``threshold`` (a form shorter than ``ngram`` is
    one gram; two empty forms, e.g. two "[END]", are equal). At 0.8 on 3-grams, a
    60-character line with one word inserted or changed still counts (0.8 to 0.95), two
    changed words sit at the edge (about 0.8), and a line that keeps only its first half does
    not (0.4 to 0.6).

    Parameters
    ----------
    messages
        The messages table.
    lookback
        How many earlier messages of the same conversation each message is compared with.
    threshold
        Lowest similarity that counts as a near repeat, in (0, 1].
    ngram
        Character n-gram length.
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker``, ``is_exact_repeat``, ``is_near_repeat``
        (exact or near), ``repeat_lag`` (smallest lag with a near repeat, else NA),
        ``max_similarity`` (highest similarity within the lookback; NaN for the first message).
    """
    _check_options(lookback, threshold, ngram)
    m = _generated(messages, include_seed)
    sim, exact = _lag_similarities(m, lookback, ngram)
    near = np.nan_to_num(sim, nan=0.0) >= threshold
    out = m[["conversation_id", "turn", "speaker"]].copy()
    out["is_exact_repeat"] = exact.any(axis=1)
    out["is_near_repeat"] = near.any(axis=1)
    out["repeat_lag"] = pd.array(np.where(near.any(axis=1), near.argmax(axis=1) + 1, 0),
                                 dtype="Int64")
    out.loc[~out["is_near_repeat"], "repeat_lag"] = pd.NA
    has_earlier = ~np.isnan(sim).all(axis=1)
    out["max_similarity"] = np.where(has_earlier, np.nanmax(np.where(np.isnan(sim), -1, sim),
                                                            axis=1), np.nan)
    return out


def repeat_share_by_turn(repeats: pd.DataFrame, *, bin_width: int = 1) -> pd.DataFrame:
    """Share of messages at each turn that repeat a recent one (from :func:`near_repeats`).

    Returns
    -------
    DataFrame
        ``turn`` (first turn of the bin), ``n_messages``, ``share_exact``, ``share_near``.
    """
    _check_positive("bin_width", bin_width)
    r = repeats.assign(turn=repeats["turn"] // bin_width * bin_width)
    return (r.groupby("turn", sort=True)
             .agg(n_messages=("is_near_repeat", "size"), share_exact=("is_exact_repeat", "mean"),
                  share_near=("is_near_repeat", "mean"))
             .reset_index())


# --- loops -----------------------------------------------------------------------------------


def model_pairs(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.Series:
    """The model pair of each conversation: its speakers, sorted, joined by " ↔ "."""
    # Only the columns it reads, and each (conversation, speaker) once: the join runs per
    # conversation on a handful of names, not on every message.
    m = _generated(messages[["conversation_id", "turn", "speaker", "is_seed"]], include_seed)
    speakers = m[["conversation_id", "speaker"]].drop_duplicates()
    pairs = speakers.groupby("conversation_id", sort=False)["speaker"].agg(
        lambda s: " ↔ ".join(sorted(set(s))))
    return pairs.astype("string").rename("model_pair")


@by_conversation(split=("repeats",))
def loops(
    messages: pd.DataFrame, *, lookback: int = 6, threshold: float = 0.8, ngram: int = 3,
    min_repeats: int = 2, include_seed: bool = False, repeats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The loop each conversation ends in, if any.

    The loop is the longest final stretch in which every message near-repeats one of the
    ``lookback`` before it (see :func:`near_repeats`); ``onset_turn`` is its first message.
    ``period`` is the lag at which the stretch repeats: for each message the smallest lag with
    a near repeat, and the most common of those (ties: the smaller), so one glitch does not
    hide a fixed point. 1 is a fixed point (the same message over and over), 2 a ping-pong
    (A, B, A, B), more a longer cycle. The loop starts (``loop_start_turn``) at the message
    the onset repeats, the first occurrence of the repeated unit: the ``period`` messages from
    there. A conversation is in a loop when the stretch holds at least
    ``max(period, min_repeats)`` repeats.

    Parameters
    ----------
    messages
        The messages table.
    lookback, threshold, ngram
        As in :func:`near_repeats`.
    min_repeats
        Fewest repeats that make a loop (2: "A, A" is not a loop, "A, A, A" is).
    include_seed
        Keep the orchestrator's seed messages.
    repeats
        The result of :func:`near_repeats` on the same messages and options, to reuse it.

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``n_messages``,
        ``has_loop``, ``onset_turn``, ``loop_start_turn``, ``period`` (Int64, NA without a
        loop), ``n_repeats``, ``coverage`` (share of the generated messages from the loop start
        on, 3 decimals; 0 without a loop), ``unit`` (the repeated messages' text, whitespace
        collapsed, joined by " | "; empty without a loop), ``repeat_share`` (share of all the
        conversation's messages that near-repeat a recent one, 3 decimals).
    """
    _check_positive("min_repeats", min_repeats)
    m = _generated(messages, include_seed)
    r = repeats if repeats is not None else near_repeats(
        m, lookback=lookback, threshold=threshold, ngram=ngram, include_seed=True)
    r = r.reset_index(drop=True)
    codes, ids = pd.factorize(r["conversation_id"])
    pos = _positions(r)
    stretch = _final_stretch(r["is_near_repeat"].to_numpy(dtype=bool), pos, codes)
    in_stretch = pos >= stretch["onset"][codes]
    lag = r["repeat_lag"].fillna(0).to_numpy(dtype=np.int64)
    period = _period(lag, in_stretch, codes, len(ids))
    n_msgs = np.bincount(codes, minlength=len(ids))
    has_loop = stretch["n_repeats"] >= np.maximum(period, min_repeats)
    first_row = np.r_[0, np.cumsum(n_msgs)[:-1]]
    onset_row = first_row + np.minimum(stretch["onset"], n_msgs - 1)
    # The loop starts at the message the first repeat repeats: the unit's first occurrence.
    start = np.where(has_loop, np.maximum(stretch["onset"] - lag[onset_row], 0), 0)
    out = pd.DataFrame({"conversation_id": pd.array(ids, dtype="string")})
    out["model_pair"] = model_pairs(m, include_seed=True).reindex(ids).to_numpy()
    out["n_messages"] = n_msgs.astype("int64")
    out["has_loop"] = has_loop
    turns = r["turn"].to_numpy()
    out["onset_turn"] = _masked_int(turns[onset_row], has_loop)
    out["loop_start_turn"] = _masked_int(turns[first_row + start], has_loop)
    out["period"] = _masked_int(period, has_loop)
    out["n_repeats"] = np.where(has_loop, stretch["n_repeats"], 0).astype("int64")
    out["coverage"] = np.where(has_loop, (n_msgs - start) / np.maximum(n_msgs, 1), 0.0).round(3)
    out["unit"] = _units(m["text"].to_numpy(), first_row + start, period, has_loop)
    out["repeat_share"] = (r.groupby(codes)["is_near_repeat"].mean().to_numpy()).round(3)
    return out


def loop_overview(loops_table: pd.DataFrame) -> pd.DataFrame:
    """How conversations end up looping, by period (from :func:`loops`).

    Returns
    -------
    DataFrame
        One row per period found plus a row ``"no loop"``: ``loop`` (``"period 1"``, ...),
        ``n_conversations``, ``share`` (of all conversations), ``median_onset_turn``,
        ``median_coverage`` (2 decimals; NaN for "no loop").
    """
    lp = loops_table
    label = ("period " + lp["period"].astype("string")).fillna("no loop")
    grouped = lp.assign(loop=label).groupby("loop", sort=True)
    out = grouped.agg(n_conversations=("conversation_id", "size"),
                      median_onset_turn=("onset_turn", "median"),
                      median_coverage=("coverage", "median")).reset_index()
    out["median_coverage"] = out["median_coverage"].where(out["loop"] != "no loop")
    out = out.astype({"median_onset_turn": "float64", "median_coverage": "float64"}).round(2)
    out["share"] = (out["n_conversations"] / max(len(lp), 1)).round(3)
    return out[["loop", "n_conversations", "share", "median_onset_turn", "median_coverage"]]


def _final_stretch(is_repeat: np.ndarray, pos: np.ndarray, codes: np.ndarray) -> dict:
    """Per conversation: position of the first message of the all-repeat suffix, its length."""
    n_conv = codes.max(initial=-1) + 1
    last_break = np.full(n_conv, -1)
    np.maximum.at(last_break, codes, np.where(is_repeat, -1, pos))
    n_msgs = np.bincount(codes, minlength=n_conv)
    onset = last_break + 1
    return {"onset": onset, "n_repeats": n_msgs - onset}


def _period(repeat_lag: np.ndarray, in_stretch: np.ndarray, codes: np.ndarray, n_conv: int
            ) -> np.ndarray:
    """Most common smallest repeat lag in each conversation's final stretch (ties: smaller)."""
    lags = pd.DataFrame({"c": codes[in_stretch], "lag": repeat_lag[in_stretch]})
    mode = (lags.groupby(["c", "lag"]).size().reset_index(name="k")
                .sort_values(["c", "k", "lag"], ascending=[True, False, True], kind="stable")
                .drop_duplicates("c"))
    period = np.ones(n_conv, dtype=np.int64)
    period[mode["c"].to_numpy(dtype=np.int64)] = mode["lag"].to_numpy(dtype=np.int64)
    return period


def _masked_int(values: np.ndarray, keep: np.ndarray) -> pd.api.extensions.ExtensionArray:
    out = pd.array(np.where(keep, values, 0), dtype="Int64")
    out[~keep] = pd.NA
    return out


def _one_line(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _units(texts: np.ndarray, start: np.ndarray, period: np.ndarray, keep: np.ndarray) -> pd.Series:
    units = [" | ".join(_one_line(t) for t in texts[s : s + p]) if k else ""
             for s, p, k in zip(start, period, keep, strict=True)]
    return pd.Series(units, dtype="string")


# --- recurrence ------------------------------------------------------------------------------


def recurrence_matrix(
    messages: pd.DataFrame, *, conversation_id: str, ngram: int = 3, include_seed: bool = False,
) -> pd.DataFrame:
    """Message-by-message similarity of one conversation, for a recurrence plot.

    The similarity is the near-repeat one (:func:`near_repeats`): cosine similarity of the
    character n-gram sets of the normal forms, 1 on the diagonal and for two empty forms.

    Returns
    -------
    DataFrame
        Square, symmetric, indexed by ``turn`` on both axes, values in [0, 1].
    """
    _check_positive("ngram", ngram)
    m = _generated(messages, include_seed)
    m = m[m["conversation_id"] == conversation_id]
    if m.empty:
        known = ", ".join(map(str, list(dict.fromkeys(messages["conversation_id"]))[:5]))
        raise ValueError(f"conversation_id {conversation_id!r} is not in messages "
                         f"(known, first five: {known})")
    codes, forms = pd.factorize(m["text"].map(normal_form))
    grams = char_ngram_matrix(list(forms), ngram).astype(np.float64)
    inter = (grams @ grams.T).toarray()
    sizes = grams.getnnz(axis=1)
    unique_sim = _set_cosine(inter, sizes[:, None], sizes[None, :])
    turns = pd.Index(m["turn"].to_numpy(), name="turn")
    return pd.DataFrame(unique_sim[np.ix_(codes, codes)], index=turns, columns=turns.copy())


def recurrence_matrices(
    messages: pd.DataFrame, *, conversation_ids: list[str], ngram: int = 3,
    include_seed: bool = False,
) -> dict[str, pd.DataFrame]:
    """:func:`recurrence_matrix` for each of ``conversation_ids``, in that order."""
    return {cid: recurrence_matrix(messages, conversation_id=cid, ngram=ngram,
                                   include_seed=include_seed) for cid in conversation_ids}


# --- end states ------------------------------------------------------------------------------


def _is_silent(form: str) -> bool:
    """Empty, punctuation only, or a placeholder for silence (form: a normal form)."""
    if not _LETTER_OR_DIGIT_RE.search(form) and not EMOJI_RE.search(form):
        return True
    return bool(_PLACEHOLDER_RE.fullmatch(form) or _SILENT_WORD_RE.fullmatch(form))


def _is_mostly_emoji(text: str) -> bool:
    tokens = tokenize(text)
    n_emoji = sum(map(is_emoji, tokens))
    return n_emoji > 0 and 2 * n_emoji >= len(tokens)


def _tail_flags(m: pd.DataFrame, tail: int, lexicon: pd.DataFrame) -> pd.DataFrame:
    """The last ``tail`` messages of each conversation with the flags the rules count."""
    pos = _positions(m)
    n = m.groupby("conversation_id", sort=False)["turn"].transform("size").to_numpy()
    t = m[pos >= n - tail]
    forms = t["text"].map(normal_form)
    hits = theme_hits(t["text"], lexicon[lexicon["theme"].isin([_FAREWELL, _REFUSAL])])
    return pd.DataFrame({
        "conversation_id": t["conversation_id"],
        "text": t["text"],
        "marker_only": t["is_end_marker"].to_numpy(dtype=bool),
        "silent": forms.map(_is_silent).to_numpy(dtype=bool) & ~t["is_end_marker"].to_numpy(bool),
        "emoji": t["text"].map(_is_mostly_emoji).to_numpy(dtype=bool),
        "refusal": hits[_REFUSAL].to_numpy() > 0,
        "farewell": hits[_FAREWELL].to_numpy() > 0,
    })


def _check_lexicon(lexicon: pd.DataFrame, source: object) -> None:
    missing = {_FAREWELL, _REFUSAL} - set(lexicon["theme"])
    if missing:
        raise ValueError(f"lexicon {source} lacks the theme(s) {sorted(missing)} that the "
                         "end-state rules need; add [themes.farewell] and [themes.refusal]")


@by_conversation(split=("loops_table",))
def end_states(
    messages: pd.DataFrame, *, tail: int = 6, dominance: float = 0.5,
    refusal_share: float = 0.3, lexicon: str | os.PathLike[str] | pd.DataFrame | None = None,
    lookback: int = 6, threshold: float = 0.8, ngram: int = 3, min_repeats: int = 2,
    include_seed: bool = False, loops_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Label where each conversation ends up, with the evidence.

    The tail is the last ``tail`` generated messages (all of them in a shorter conversation).
    Rules are tried in the order of ``END_STATES``; the first that applies wins. A rule on a
    share of the tail also needs at least two such messages (``share >= x`` and ``count >= 2``).

    1. end-marker ping-pong: at least ``dominance`` of the tail is end markers only ("[END]");
    2. silence collapse: at least ``dominance`` of the tail is empty, whitespace, punctuation
       only ("...", "."), or a placeholder of silence ("[Empty response]", "*silence*");
    3. emoji collapse: at least ``dominance`` of the tail is mostly emoji (half the tokens);
    4. fixed-point loop: the conversation ends in a loop (:func:`loops`) of period 1;
    5. periodic loop: it ends in a loop of period 2 or more;
    6. refusal or disengagement: at least ``refusal_share`` of the tail uses the lexicon's
       ``refusal`` terms ("I won't continue", "I'm not going to");
    7. farewell loop: at least ``dominance`` of the tail uses its ``farewell`` terms;
    8. still open: none of the above.

    What a loop repeats (markers, silence, emoji) is named before the loop itself; refusal
    precedes farewell because refusals come wrapped in goodbyes and are the rarer signal.

    Parameters
    ----------
    messages
        The messages table.
    tail
        Number of final messages the content rules look at.
    dominance
        Share of the tail that makes it "dominated" by markers, silence, emoji or farewells.
    refusal_share
        Share of the tail with refusal terms that labels a refusal.
    lexicon
        Lexicon file or table (:func:`q7x2_lib.drift.load_lexicon`) with the ``farewell`` and
        ``refusal`` themes; default ``data/lexicons/themes.toml``.
    lookback, threshold, ngram, min_repeats
        Loop detection options, as in :func:`loops`.
    include_seed
        Keep the orchestrator's seed messages.
    loops_table
        The result of :func:`loops` on the same messages and options, to reuse it.

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``end_state`` (ordered
        categorical of ``END_STATES``), ``evidence`` (a sentence with the numbers), ``n_tail``,
        ``share_marker_only``, ``share_silent``, ``share_emoji``, ``share_refusal``,
        ``share_farewell`` (shares of the tail, 3 decimals), ``period``, ``coverage``,
        ``onset_turn`` (from :func:`loops`).
    """
    _check_positive("tail", tail)
    _check_share("dominance", dominance)
    _check_share("refusal_share", refusal_share)
    table = lexicon if isinstance(lexicon, pd.DataFrame) else load_lexicon(lexicon)
    _check_lexicon(table, lexicon if lexicon is not None else "data/lexicons/themes.toml")
    m = _generated(messages, include_seed)
    lp = loops_table if loops_table is not None else loops(
        m, lookback=lookback, threshold=threshold, ngram=ngram, min_repeats=min_repeats,
        include_seed=True)
    flags = _tail_flags(m, tail, table)
    counts = flags.drop(columns="text").groupby("conversation_id", sort=False).agg(
        ["sum", "size"])
    return _label(lp, counts, flags, dominance, refusal_share, table)


def _label(
    lp: pd.DataFrame, counts: pd.DataFrame, flags: pd.DataFrame, dominance: float,
    refusal_share: float, lexicon: pd.DataFrame,
) -> pd.DataFrame:
    c = counts.reindex(lp["conversation_id"].to_numpy()).fillna(0)
    n_tail = c[("marker_only", "size")].to_numpy(dtype=np.int64)
    out = lp[["conversation_id", "model_pair"]].copy()
    out["n_tail"] = n_tail

    def dominated(flag: str, share: float) -> np.ndarray:
        k = c[(flag, "sum")].to_numpy(dtype=float)
        out[f"share_{flag}"] = np.divide(k, n_tail, out=np.zeros(len(k)), where=n_tail > 0).round(3)
        return (k >= _MIN_TAIL_MESSAGES) & (k >= share * n_tail - 1e-9)

    period = lp["period"]
    rules = [
        dominated("marker_only", dominance),
        dominated("silent", dominance),
        dominated("emoji", dominance),
        (lp["has_loop"] & (period == 1).fillna(False)).to_numpy(dtype=bool),
        (lp["has_loop"] & (period >= 2).fillna(False)).to_numpy(dtype=bool),
        dominated("refusal", refusal_share),
        dominated("farewell", dominance),
    ]
    chosen = np.select([np.asarray(r, dtype=bool) for r in rules], END_STATES[:-1],
                       default=END_STATES[-1])
    out["end_state"] = pd.Categorical(chosen, categories=END_STATES, ordered=True)
    out["period"] = period.array
    out["coverage"] = lp["coverage"].to_numpy()
    out["onset_turn"] = lp["onset_turn"].array
    examples = _first_terms(flags, lexicon)
    out["evidence"] = [
        _evidence(row, dominance, refusal_share, lp_row, examples.get(row.conversation_id, {}))
        for row, lp_row in zip(out.itertuples(index=False), lp.itertuples(index=False),
                               strict=True)
    ]
    return out[["conversation_id", "model_pair", "end_state", "evidence", "n_tail",
                "share_marker_only", "share_silent", "share_emoji", "share_refusal",
                "share_farewell", "period", "coverage", "onset_turn"]]


def _first_terms(flags: pd.DataFrame, lexicon: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The first refusal and farewell term matched in each conversation's tail."""
    patterns = theme_patterns(lexicon[lexicon["theme"].isin([_FAREWELL, _REFUSAL])])
    out: dict[str, dict[str, str]] = {}
    for theme in (_REFUSAL, _FAREWELL):
        for cid, text in flags.loc[flags[theme], ["conversation_id", "text"]].itertuples(
                index=False):
            found = out.setdefault(cid, {})
            if theme not in found:
                match = patterns[theme].search(normal_form(text))
                found[theme] = match.group(0) if match else ""
    return out


def _evidence(row, dominance: float, refusal_share: float, lp_row, examples: dict) -> str:
    n, state = row.n_tail, row.end_state

    def part(share: float) -> str:
        return f"{round(share * n)} of {n} tail messages"

    if state == "end-marker ping-pong":
        return f"{part(row.share_marker_only)} are end markers only ({row.share_marker_only:.2f}" \
               f" ≥ {dominance})"
    if state == "silence collapse":
        return f"{part(row.share_silent)} are empty, punctuation or silence placeholders " \
               f"({row.share_silent:.2f} ≥ {dominance})"
    if state == "emoji collapse":
        return f"{part(row.share_emoji)} are mostly emoji ({row.share_emoji:.2f} ≥ {dominance})"
    if state in ("fixed-point loop", "periodic loop"):
        unit = lp_row.unit if len(lp_row.unit) <= 80 else lp_row.unit[:77] + "..."
        return f"from turn {lp_row.onset_turn} every message repeats a recent one (period " \
               f"{lp_row.period}, coverage {lp_row.coverage:.2f}): \"{unit}\""
    if state == "refusal or disengagement":
        return f"{part(row.share_refusal)} use refusal terms ({row.share_refusal:.2f} ≥ " \
               f"{refusal_share}), e.g. \"{examples.get(_REFUSAL, '')}\""
    if state == "farewell loop":
        return f"{part(row.share_farewell)} use farewell terms ({row.share_farewell:.2f} ≥ " \
               f"{dominance}), e.g. \"{examples.get(_FAREWELL, '')}\""
    return (f"no rule applies: tail of {n}, markers {row.share_marker_only:.2f}, silent "
            f"{row.share_silent:.2f}, emoji {row.share_emoji:.2f}, refusal "
            f"{row.share_refusal:.2f}, farewell {row.share_farewell:.2f}, no final loop")


def end_state_shares(states: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """How many conversations end in each state, overall or within each value of ``by``.

    Returns
    -------
    DataFrame
        ``by`` (when given, e.g. ``"model_pair"``), ``end_state`` (every label, also those with
        no conversation), ``n_conversations``, ``share`` (of the group, 3 decimals).
    """
    if by is not None and by not in states.columns:
        raise ValueError(f"by must be a column of the end-state table, got {by!r} "
                         f"(columns: {', '.join(states.columns)})")
    keys = ([by] if by else []) + ["end_state"]
    counts = states.groupby(keys, observed=False, sort=True).size().rename("n_conversations")
    out = counts.reset_index()
    total = out.groupby(by)["n_conversations"].transform("sum") if by else len(states)
    out["share"] = (out["n_conversations"] / np.maximum(total, 1)).round(3)
    return out


def example_conversations(states: pd.DataFrame, *, n: int = 12) -> list[str]:
    """Up to ``n`` conversation ids that show every end state: one per label in turn
    (in ``END_STATES`` order, by id within a label), then a second round, and so on."""
    ranked = states.sort_values(["end_state", "conversation_id"], kind="stable").assign(
        rank=lambda d: d.groupby("end_state", observed=True).cumcount())
    ranked = ranked.sort_values(["rank", "end_state"], kind="stable")
    return [str(c) for c in ranked["conversation_id"].head(n)]
