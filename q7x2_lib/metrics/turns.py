"""Turn-taking asymmetry: word shares, reply ratios, mirroring, echo, who ends, model pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._core.schema import tested_statistic
from .._core.speed import by_conversation, columns_of
from .._core.text import token_codes
from .._core.validate import check_positive_int, messages_metric
from .dependence import (
    MIN_EFFECTIVE,
    block_draws,
    block_lengths,
    detrend,
    effective_size,
    lag1_autocorrelation,
    shift_batches,
    widen,
)
from .length import _kept, collapse_turn, message_lengths, speaker_roles
from .stats import (
    bin_position,
    bootstrap_replicates,
    describe_groups,
    group_batches,
    in_threads,
    percentile_interval,
    permutation_batches,
    round_floats,
)

__all__ = [
    "baseline_summary",
    "content_words",
    "dominance",
    "lexical_echo",
    "mirroring",
    "model_matrix",
    "reply_length_ratio",
    "reply_ratio_profile",
    "tested_statistic",
    "who_ends",
    "who_ends_summary",
    "word_share",
]

_MIN_PAIRS = 3  # a rank correlation of two points is always +-1
_STR = "string"
_CONV_CHUNK = 2000  # conversations per bootstrap chunk: keeps replicate matrices small
_DENSE_PAIRS = 1_500  # replies of one direction above which echo baselines skip the (n, n) table


def _speaker_groups(lengths: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes of the (conversation, speaker) groups and their keys, sorted."""
    grouped = lengths.groupby(["conversation_id", "speaker"], sort=True)
    keys = grouped.agg(role=("role", "first"), n_messages=("length", "size"),
                       length=("length", "sum")).reset_index()
    return grouped.ngroup().to_numpy(np.int64), keys


def _share_replicates(lengths: pd.DataFrame, codes: np.ndarray, keys: pd.DataFrame,
                      n_boot: int, seed: int):
    """Yield (group slice, share replicates) per chunk of conversations.

    Each speaker's messages are resampled within the conversation (stratified: message counts stay
    as observed); a replicate's share is the speaker's resampled word total over the sum of all
    speakers' resampled totals. Each speaker of a conversation draws from its own stream (its
    place among the conversation's speakers), so equally active speakers are resampled
    independently.
    """
    conv_codes, _ = pd.factorize(keys["conversation_id"], sort=True)
    bounds = np.searchsorted(conv_codes, np.arange(0, conv_codes.max(initial=-1) + 1 + _CONV_CHUNK,
                                                   _CONV_CHUNK))
    values = lengths["length"].to_numpy(float)
    streams = keys.groupby("conversation_id", sort=False).cumcount().to_numpy(np.int64)
    for g0, g1 in zip(bounds[:-1], bounds[1:], strict=True):
        if g1 <= g0:
            continue
        rows = (codes >= g0) & (codes < g1)
        sums = bootstrap_replicates(values[rows], codes[rows] - g0, n_groups=g1 - g0,
                                    statistic="sum", n_boot=n_boot, seed=seed,
                                    streams=streams[g0:g1])
        starts = np.flatnonzero(np.diff(conv_codes[g0:g1], prepend=-1))
        totals = np.add.reduceat(sums, starts, axis=1)
        sizes = np.diff(np.append(starts, g1 - g0))
        with np.errstate(invalid="ignore", divide="ignore"):
            yield slice(g0, g1), sums / np.repeat(totals, sizes, axis=1)


@messages_metric
@by_conversation
def word_share(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False,
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Each speaker's share of the words (or characters) in a conversation, with a bootstrap CI.

    The interval respects autocorrelation. Where a conversation's lengths show dependence from
    one message to the next, its messages are resampled jointly, both speakers together, in
    circular blocks of ``block_length`` consecutive messages (exchanges stay whole), the block
    length chosen by Politis and White's rule from the log lengths with each speaker's level and
    the conversation's trend taken out
    (:func:`q7x2_lib.metrics.dependence.block_lengths`), and the interval is widened for the few
    blocks it rests on (:func:`q7x2_lib.metrics.dependence.widen`). Where they show none (block
    1), each speaker's messages are resampled on their own within the conversation (their number
    stays as observed). ``n_eff`` is the speaker's effective number of independent messages,
    ``n (1 - r) / (1 + r)`` with ``r`` the lag-1 autocorrelation of its own detrended log
    lengths; ``few_effective`` flags shares resting on fewer than 10.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``speaker``, ``role``, ``n_messages``, ``length`` (the speaker's
        total), ``share``, ``share_low``, ``share_high``, ``block_length`` (the conversation's),
        ``n_eff``, ``few_effective``; shares are NaN in a conversation without a single word.
    """
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)
    codes, keys = _speaker_groups(lengths)
    totals = keys.groupby("conversation_id")["length"].transform("sum").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = keys["length"].to_numpy(float) / totals
    low, high = np.full(len(keys), np.nan), np.full(len(keys), np.nan)
    conv, residual = _length_residuals(lengths, codes)
    blocks = _conversation_blocks(residual, conv)
    block_of_key = blocks[pd.factorize(keys["conversation_id"], sort=True)[0]]
    dependent = block_of_key > 1
    # Independent resampling for the conversations without dependence (keyed draws: the same
    # intervals as if they were computed alone).
    alone = blocks[conv] <= 1
    if alone.any():
        sub = lengths.loc[alone]
        sub_codes, sub_keys = _speaker_groups(sub)
        where = np.flatnonzero(~dependent)
        for sl, reps in _share_replicates(sub, sub_codes, sub_keys, n_boot, seed):
            low[where[sl]], high[where[sl]] = percentile_interval(reps, ci=ci)
    if dependent.any():
        b_low, b_high = _block_share_intervals(lengths, conv, codes, blocks, len(keys), n_boot,
                                               seed, ci)
        n_conv = keys.groupby("conversation_id")["n_messages"].transform("sum").to_numpy()
        w_low, w_high = widen(share, b_low, b_high, n_conv, block_of_key, ci)
        low = np.where(dependent, np.clip(w_low, 0.0, 1.0), low)
        high = np.where(dependent, np.clip(w_high, 0.0, 1.0), high)
    n_eff = _speaker_effective(residual, codes, len(keys))
    return keys.assign(length=keys["length"].astype("int64"), share=share, share_low=low,
                       share_high=high, block_length=block_of_key.astype("int64"), n_eff=n_eff,
                       few_effective=n_eff < MIN_EFFECTIVE)


def _length_residuals(lengths: pd.DataFrame, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conversation codes (sorted ids) and the log lengths with each conversation's linear trend
    and each speaker's level (group ``codes``) taken out: what is left of one message that the
    next may carry over."""
    conv = pd.factorize(lengths["conversation_id"], sort=True)[0]
    count = np.maximum(1, np.bincount(codes))

    def level_out(v: np.ndarray) -> np.ndarray:
        return v - (np.bincount(codes, v) / count)[codes]

    y = level_out(np.log1p(lengths["length"].to_numpy(float)))
    return conv, level_out(detrend(lengths["turn"].to_numpy(float), y, conv,
                                   conv.max(initial=-1) + 1))


def _conversation_blocks(residual: np.ndarray, conv: np.ndarray) -> np.ndarray:
    """Block length of each conversation from its residual series in message order."""
    blocks = np.ones(conv.max(initial=-1) + 1, dtype=np.int64)
    for gids, members in group_batches(conv):
        blocks[gids] = block_lengths(residual[members])
    return blocks


def _speaker_effective(residual: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Effective messages of each (conversation, speaker) group from its own residuals."""
    out = np.zeros(n_groups)
    for gids, members in group_batches(codes, n_groups):
        out[gids] = effective_size(np.full(len(gids), members.shape[1]),
                                   lag1_autocorrelation(residual[members]))
    return out


def _block_share_intervals(lengths: pd.DataFrame, conv: np.ndarray, codes: np.ndarray,
                           blocks: np.ndarray, n_keys: int, n_boot: int, seed: int, ci: float
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of every speaker's share under joint circular block resampling of
    its conversation's messages (conversations with a block above 1; NaN elsewhere)."""
    low, high = np.full(n_keys, np.nan), np.full(n_keys, np.nan)
    values = lengths["length"].to_numpy(float)
    # Speaker groups are numbered by conversation, then speaker: a conversation's first group
    # is its smallest code.
    first_key = np.full(conv.max(initial=-1) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first_key, conv, codes)
    local = codes - first_key[conv]  # each speaker's place within its conversation
    for gids, members in group_batches(conv):
        for b in np.unique(blocks[gids]):
            if b <= 1:
                continue
            keep = blocks[gids] == b
            sel, rows = gids[keep], members[keep]
            n = rows.shape[1]
            # How often each position is drawn in each resample: sums are matrix products.
            draws = block_draws(seed, n, int(b), n_boot)
            drawn = np.bincount((np.arange(n_boot)[:, None] * n + draws).ravel(),
                                minlength=n_boot * n).reshape(n_boot, n).astype(float)
            vals, who = values[rows], local[rows]
            with np.errstate(invalid="ignore", divide="ignore"):
                total = vals @ drawn.T  # (G, n_boot)
                for s in range(int(who.max()) + 1):
                    present = (who == s).any(axis=1)
                    reps = (np.where(who == s, vals, 0.0) @ drawn.T) / total
                    lo, hi = percentile_interval(reps[present], ci=ci, axis=1)
                    keys_of = (first_key[sel] + s)[present]
                    low[keys_of], high[keys_of] = lo, hi
    return low, high


def _dominance_index(max_share: np.ndarray, n_speakers: np.ndarray) -> np.ndarray:
    """(max share - 1/k) / (1 - 1/k): 0 for equal shares, 1 when one of k speakers has it all."""
    k = np.asarray(n_speakers, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 1, (max_share - 1 / k) / (1 - 1 / k), np.nan)


@messages_metric
@by_conversation(split=("shares",))
def dominance(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False,
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0, shares: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How far a conversation's word shares are from equal, with a bootstrap interval.

    With k speakers and largest share m, ``dominance = (m - 1/k) / (1 - 1/k)``: 0 when every
    speaker has 1/k of the words, 1 when one speaker has them all. For two speakers it equals
    ``2 m - 1 = |share_a - share_b|``. The interval is the image of the dominant speaker's share
    interval (:func:`word_share`) under that formula, folded at 0: an interval for the share that
    straddles 1/k gives a dominance interval starting at 0 (a percentile interval of resampled
    dominances would exclude 0, and often the estimate itself, because the index cannot go
    below 0).

    Parameters
    ----------
    messages
        A messages table.
    unit, include_seed, n_boot, ci, seed
        As in :func:`word_share`.
    shares
        The result of :func:`word_share` on the same messages and options, to reuse it
        instead of resampling again.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_speakers``, ``dominant_speaker`` (largest share; first by name
        on ties), ``dominance``, ``dominance_low``, ``dominance_high``; NaN with a single speaker
        or no words.
    """
    if shares is None:
        shares = word_share(messages, unit=unit, include_seed=include_seed, n_boot=n_boot, ci=ci,
                            seed=seed)
    grouped = shares.assign(share=shares["share"].fillna(-1.0)).groupby("conversation_id")
    top = shares.loc[grouped["share"].idxmax()].reset_index(drop=True)
    k = grouped.size().to_numpy()
    low = _dominance_index(top["share_low"].to_numpy(float), k)
    high = _dominance_index(top["share_high"].to_numpy(float), k)
    straddles = (low < 0) & (high > 0)
    return pd.DataFrame({
        "conversation_id": top["conversation_id"], "n_speakers": k.astype("int64"),
        "dominant_speaker": top["speaker"],
        "dominance": _dominance_index(top["share"].to_numpy(float), k),
        "dominance_low": np.where(straddles, 0.0, np.fmin(np.abs(low), np.abs(high))),
        "dominance_high": np.fmax(np.abs(low), np.abs(high)),
    })


def _is_reply(lengths: pd.DataFrame) -> np.ndarray:
    """Rows whose previous row is in the same conversation and from another speaker."""
    same = lengths["conversation_id"].eq(lengths["conversation_id"].shift(1)).fillna(False)
    other = lengths["speaker"].ne(lengths["speaker"].shift(1)).fillna(False)
    return (same & other).to_numpy(bool)


@messages_metric
@by_conversation
def reply_length_ratio(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False
) -> pd.DataFrame:
    """Per exchange, the log2 ratio of a reply's length to the length of the message it answers.

    A reply is a kept message whose previous kept message in the conversation came from another
    speaker. ``log2_ratio = log2((1 + length) / (1 + answered_length))``: the 1 keeps empty
    messages finite, so 0 means as long as the message answered, +1 about twice as long.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker`` (who replies), ``replying_to``, ``role`` (of the
        replier), ``position``, ``relative_position``, ``length``, ``answered_length``,
        ``log2_ratio``; one row per reply.
    """
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)
    is_reply = _is_reply(lengths)
    prev_speaker = lengths["speaker"].shift(1)
    prev_length = lengths["length"].shift(1, fill_value=0).to_numpy()
    out = lengths.assign(replying_to=prev_speaker.astype(_STR), answered_length=prev_length)
    out = out.loc[is_reply].reset_index(drop=True)
    out["log2_ratio"] = np.log2((1.0 + out["length"]) / (1.0 + out["answered_length"]))
    return out[["conversation_id", "turn", "speaker", "replying_to", "role", "position",
                "relative_position", "length", "answered_length", "log2_ratio"]]


@messages_metric
def reply_ratio_profile(
    messages: pd.DataFrame, *, x: str = "relative", n_bins: int = 10, unit: str = "words",
    include_seed: bool = False, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """The log2 reply ratio along the conversation, by the replier's role, across a corpus.

    Parameters
    ----------
    x
        ``"relative"`` (binned ``position / n_messages``) or ``"turn"``.

    Returns
    -------
    DataFrame
        ``role`` (of the replier), ``relative_position`` (bin midpoint) or ``turn``, ``n``,
        ``median``, ``q25``, ``q75``, ``mean``, ``mean_low``, ``mean_high`` of ``log2_ratio``.
    """
    if x not in ("turn", "relative"):
        raise ValueError(f"x: got {x!r}; expected 'relative' (binned) or 'turn'")
    by = ["role", "relative_position" if x == "relative" else "turn"]
    ratios = columns_of(messages, metric=reply_length_ratio, columns=(*by, "log2_ratio"),
                        unit=unit, include_seed=include_seed)
    if x == "relative":
        ratios = ratios.assign(relative_position=bin_position(
            ratios["relative_position"], n_bins=n_bins))
    return describe_groups(ratios, value="log2_ratio", by=by, n_boot=n_boot, ci=ci, seed=seed)


def _direction_groups(pairs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes and keys of the (conversation, replier, replied-to) groups of exchanges."""
    grouped = pairs.groupby(["conversation_id", "speaker", "replying_to"], sort=True)
    keys = grouped.agg(role=("role", "first"), n_pairs=("turn", "size")).reset_index()
    return grouped.ngroup().to_numpy(np.int64), keys


def _against_baseline(keys: pd.DataFrame, observed: np.ndarray, baseline: dict[str, np.ndarray],
                      value: str) -> pd.DataFrame:
    """Assemble the observed statistic beside its shuffled baseline."""
    return keys.assign(**{value: observed}, **baseline).astype({"n_pairs": "int64"})


def _baseline_columns(n_groups: int) -> dict[str, np.ndarray]:
    return {c: np.full(n_groups, np.nan)
            for c in ("baseline_mean", "baseline_low", "baseline_high", "p_value")}


def _fill_baseline(base: dict[str, np.ndarray], gids: np.ndarray, shuffled: np.ndarray,
                   observed: np.ndarray, ci: float) -> None:
    """Summarise shuffled replicates (n_shuffles, G) of the groups ``gids``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # groups without a statistic stay NaN
        base["baseline_mean"][gids] = np.nanmean(shuffled, axis=0)
    base["baseline_low"][gids], base["baseline_high"][gids] = percentile_interval(shuffled, ci=ci)
    # One-sided permutation p-value: how often shuffling does at least as well as observed.
    hits = (shuffled >= observed[gids][None, :] - 1e-12).sum(axis=0)
    base["p_value"][gids] = np.where(np.isnan(observed[gids]), np.nan,
                                     (1 + hits) / (1 + shuffled.shape[0]))


@messages_metric
@by_conversation
def mirroring(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False,
    n_shuffles: int = 1000, ci: float = 0.95, seed: int = 0, null: str = "shift",
) -> pd.DataFrame:
    """Do reply lengths follow the lengths they answer? Rank correlation per direction.

    ``rho`` is Spearman's rho between ``answered_length`` and ``length`` over the exchanges of
    one replier to one speaker in one conversation. Two speakers whose lengths both decay, or
    both wander slowly, correlate without answering each other, so the test is made on
    ``rho_detrended``: Spearman's rho of the two log-length series after each has its own linear
    trend over the conversation taken out, against its values under every circular shift of the
    replies against the messages they answer (``null="shift"``, the default: each series keeps
    its own autocorrelation, only their alignment is broken; exact, no randomness). Reported: the
    null's mean, its percentile interval and a one-sided p-value ``(1 + #{null >= observed}) /
    (1 + n)`` over its ``n = n_pairs - 1`` shifts (so fewer than 20 pairs cannot reach 0.05). A
    direction with more than ``n_shuffles + 1`` pairs (a conversation of thousands of messages)
    is tested on ``n_shuffles`` shifts spread evenly over all of them, so that the work grows
    with the conversation's length, not its square.

    ``null="permutation"`` is the earlier test: ``rho`` against ``n_shuffles`` random
    within-conversation permutations of the replies (seeded), which assumes independent
    messages; on autocorrelated lengths it calls independent speakers related far more often than
    its level (``benchmarks/coverage.py``).

    Returns
    -------
    DataFrame
        ``conversation_id``, ``speaker`` (replier), ``replying_to``, ``role``, ``n_pairs``,
        ``rho``, ``rho_detrended``, ``baseline_mean``, ``baseline_low``, ``baseline_high``,
        ``p_value`` (the baseline and p-value are of the tested statistic: ``rho_detrended``
        under the shift null, ``rho`` under permutations), ``null``; rho is NaN with fewer than
        3 pairs or when either side's lengths are all equal.
    """
    check_positive_int("n_shuffles", n_shuffles)
    if null not in ("shift", "permutation"):
        raise ValueError(f"null: got {null!r}; expected 'shift' (circular shifts of detrended "
                         "series, robust to autocorrelation and shared trends) or 'permutation'")
    pairs = reply_length_ratio(messages, unit=unit, include_seed=include_seed)
    codes, keys = _direction_groups(pairs)
    n_groups = len(keys)
    rho, xc, yc, denom = _rank_correlation(pairs["answered_length"].to_numpy(float),
                                           pairs["length"].to_numpy(float), codes, keys)
    turn = pairs["turn"].to_numpy(float)
    rho_detrended, xd, yd, denom_d = _rank_correlation(
        detrend(turn, np.log1p(pairs["answered_length"].to_numpy(float)), codes, n_groups),
        detrend(turn, np.log1p(pairs["length"].to_numpy(float)), codes, n_groups), codes, keys)
    # The tested statistic, its centred ranks and the null's re-pairings of the replies.
    if null == "shift":
        tested, x, y, den = rho_detrended, xd, yd, denom_d
        batches = shift_batches(codes, n_groups, max_shifts=n_shuffles)
    else:
        tested, x, y, den = rho, xc, yc, denom
        batches = permutation_batches(codes, n_perm=n_shuffles, n_groups=n_groups, seed=seed)
    usable = ~np.isnan(tested)
    base = _baseline_columns(n_groups)

    def repaired(batch: tuple[np.ndarray, np.ndarray, np.ndarray]):
        gids, members, perms = batch
        # (G, n_perm, n): one take along the pairs axis, much cheaper than take_along_axis
        moved_y = np.take(y[members], perms[:, 0, :], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = (x[members][:, None, :] * moved_y).sum(axis=-1).T / den[gids]
        return gids, np.where(usable[gids], reps, np.nan)

    in_threads(repaired, batches, then=lambda done: _fill_baseline(base, *done, tested, ci))
    return keys.assign(rho=rho, rho_detrended=rho_detrended, **base,
                       null=_null_column(null, keys)).astype({"n_pairs": "int64"})


def _null_column(null: str, keys: pd.DataFrame) -> pd.api.extensions.ExtensionArray:
    """The ``null`` column of a baseline table: which null its baseline and p-value are of."""
    return pd.array([null] * len(keys), dtype=_STR)


def _rank_correlation(x: np.ndarray, y: np.ndarray, codes: np.ndarray, keys: pd.DataFrame
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spearman's rho of ``x`` and ``y`` within each group; also the centred ranks and the
    denominator, for baselines. NaN with fewer than 3 pairs or a side without spread."""
    n_groups = len(keys)
    ranks = pd.DataFrame({"x": x, "y": y, "code": codes}).groupby("code")[["x", "y"]].rank()
    centred = ranks - ranks.groupby(codes).transform("mean")
    xc, yc = centred["x"].to_numpy(float), centred["y"].to_numpy(float)
    denom = np.sqrt(np.bincount(codes, xc * xc, n_groups) * np.bincount(codes, yc * yc, n_groups))
    usable = (keys["n_pairs"].to_numpy() >= _MIN_PAIRS) & (denom > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(usable, np.bincount(codes, xc * yc, n_groups) / denom, np.nan)
    return rho, xc, yc, denom


def content_words(texts: pd.Series) -> pd.DataFrame:
    """The distinct content words of each text, as a long table.

    Content words are the project's (:func:`q7x2_lib.text.content_tokens`): lower-cased word
    tokens (and emoji) with end markers removed, leaving out stop words, their contractions and
    words under three characters.

    Returns
    -------
    DataFrame
        ``row`` (0-based position of the text in ``texts``), ``word``; one row per distinct
        word of each text, in order of first appearance.
    """
    rows, codes, vocab = _content_codes(texts.astype(_STR).fillna("").tolist())
    return pd.DataFrame({"row": rows, "word": pd.array(np.asarray(vocab, dtype=object)[codes],
                                                       dtype=_STR)})


def _content_codes(texts: list[str] | pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(row, word code) of each distinct content word per text, and the vocabulary.

    Each distinct text is tokenised once (loops and end markers make many messages identical:
    half of them in long self-play corpora), then its words are given to every copy.
    """
    codes, uniques = pd.factorize(pd.Series(texts, dtype=_STR).fillna(""), sort=False)
    rows, words, vocab = _distinct_content_codes(uniques.tolist())
    counts = np.bincount(rows, minlength=len(uniques))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    per_text = counts[codes]
    out_rows = np.repeat(np.arange(len(codes), dtype=np.int64), per_text)
    # Position of each output pair among its unique text's pairs: a running count per text.
    offsets = np.arange(len(out_rows), dtype=np.int64) - np.repeat(np.cumsum(per_text) - per_text,
                                                                    per_text)
    return out_rows, words[np.repeat(first[codes], per_text) + offsets], vocab


def _distinct_content_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`_content_codes` of texts taken one by one (rows in order): each text's distinct
    content words in order of first appearance, as codes into the vocabulary of every token."""
    tokens = token_codes(texts)
    indptr, codes = tokens.content_only()
    pairs = pd.DataFrame({"row": np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(indptr)),
                          "code": codes}).drop_duplicates()
    return (pairs["row"].to_numpy(np.int64), pairs["code"].to_numpy(np.int64),
            list(tokens.vocabulary))


def _word_matrix(texts: pd.Series, conversation: np.ndarray) -> sp.csr_matrix:
    """Binary message x word matrix; words are scoped to their conversation, so products of rows
    from different conversations are zero."""
    rows, codes, vocab = _content_codes(texts.astype(_STR).fillna(""))
    cols, _ = pd.factorize(conversation[rows].astype(np.int64) * max(1, len(vocab)) + codes)
    # Rows come in order with distinct words each: build the CSR arrays directly (int32, no COO
    # copy), then sort each row's columns for scipy's fast paths.
    index = np.int32 if len(cols) < 2**31 else np.int64
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=len(texts)))].astype(index)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), cols.astype(index), indptr),
                           shape=(len(texts), int(cols.max(initial=-1)) + 1))
    matrix.sort_indices()
    return matrix


@messages_metric
@by_conversation
def lexical_echo(
    messages: pd.DataFrame, *, include_seed: bool = False, n_shuffles: int = 1000,
    ci: float = 0.95, seed: int = 0, null: str = "shift",
) -> pd.DataFrame:
    """How much of a reply's vocabulary comes from the message it answers, per direction.

    For each reply, the share of its distinct content words (:func:`content_words`) that also
    occur in the answered message; ``echo`` is the mean over a direction's replies that have
    content words. The baseline pairs each reply with another answered message of the same
    direction: the vocabulary two messages of this conversation share anyway. With
    ``null="shift"`` (the default) these are every circular shift of the replies against the
    messages they answer (reply i with answered message i + k), which keeps each speaker's
    persistence of topic and breaks only their alignment (at most ``n_shuffles`` shifts, spread
    evenly, for a direction with more replies); ``null="permutation"`` re-pairs them
    at random (``n_shuffles`` within-conversation permutations, seeded; a reply may land on its
    own message), which assumes messages independent and calls speakers who merely stay on their
    own topics echoing. Its mean, percentile interval and one-sided p-value are reported as in
    :func:`mirroring`.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``speaker`` (replier), ``replying_to``, ``role``, ``n_pairs``,
        ``echo``, ``baseline_mean``, ``baseline_low``, ``baseline_high``, ``p_value``, ``null``.
    """
    check_positive_int("n_shuffles", n_shuffles)
    if null not in ("shift", "permutation"):
        raise ValueError(f"null: got {null!r}; expected 'shift' (circular shifts, robust to "
                         "persistent topics) or 'permutation'")
    kept = _kept(messages, include_seed, extra=("text",), func="lexical_echo")
    lengths = message_lengths(messages, include_seed=include_seed)
    reply = np.flatnonzero(_is_reply(lengths))
    pairs = lengths.iloc[reply].assign(replying_to=pd.array(
        lengths["speaker"].to_numpy()[reply - 1], dtype=_STR)).reset_index(drop=True)
    codes, keys = _direction_groups(pairs)
    matrix = _word_matrix(kept["text"], pd.factorize(kept["conversation_id"])[0])
    del kept
    n_words = np.diff(matrix.indptr)[reply]  # rows are binary: stored entries are the words
    shared = _shared_with_previous(matrix)[reply - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_words > 0, shared / n_words, np.nan)
    echo = _group_nanmean(share, codes, len(keys))
    base = _baseline_columns(len(keys))

    def shuffled(batch: tuple[np.ndarray, np.ndarray, np.ndarray]):
        gids, members, perms = batch
        return gids, _shuffled_echo(matrix, reply[members], n_words[members], perms)

    if null == "shift":
        batches = shift_batches(codes, len(keys), max_shifts=n_shuffles)
    else:
        batches = permutation_batches(codes, n_perm=n_shuffles, n_groups=len(keys), seed=seed)
    in_threads(shuffled, batches, then=lambda done: _fill_baseline(base, *done, echo, ci))
    return _against_baseline(keys, echo, base, "echo").assign(null=_null_column(null, keys))


def _shared_with_previous(matrix: sp.csr_matrix) -> np.ndarray:
    """Entry i: the words row i + 1 shares with row i of a binary matrix (row views, no copies)."""
    if matrix.shape[0] < 2:
        return np.zeros(0, dtype=np.int64)
    ptr, cut = matrix.indptr, matrix.indptr[1]
    after = sp.csr_matrix((matrix.data[cut:], matrix.indices[cut:], ptr[1:] - cut),
                          shape=(matrix.shape[0] - 1, matrix.shape[1]))
    before = sp.csr_matrix((matrix.data[:ptr[-2]], matrix.indices[:ptr[-2]], ptr[:-1]),
                           shape=after.shape)
    return np.diff(after.multiply(before).tocsr().indptr)


def _group_nanmean(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    valid = ~np.isnan(values)
    total = np.bincount(codes[valid], values[valid], n_groups)
    count = np.bincount(codes[valid], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _overlap_blocks(matrix: sp.csr_matrix, reply_rows: np.ndarray, shape: tuple[int, int]
                    ) -> np.ndarray:
    """Shared-word counts between every reply and every answered message of each group (G, n, n);
    ``reply_rows`` (G, n) are the replies' rows of ``matrix``, each answering the row before."""
    n_g, n = shape
    rows = reply_rows.ravel()
    product = (matrix[rows] @ matrix[rows - 1].T).tocoo()
    same = product.row // n == product.col // n
    blocks = np.zeros((n_g, n, n))
    row, col = product.row[same], product.col[same]
    blocks[row // n, row % n, col % n] = product.data[same]
    return blocks


def _shuffled_echo(matrix: sp.csr_matrix, reply_rows: np.ndarray, n_words: np.ndarray,
                   perms: np.ndarray) -> np.ndarray:
    """Echo of each group (G, n) with its replies re-paired by each permutation: (n_perm, G).

    Each reply's shared-word counts are divided by its own words first; a permutation then
    takes one entry per reply from the flattened (G, n * n) table and sums them.
    """
    n_g, n = reply_rows.shape
    valid = n_words > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(valid, 1.0 / np.where(valid, n_words, 1), 0.0)
    denominator = np.where(valid.any(axis=-1), valid.sum(axis=-1), np.nan)[:, None]
    if n > _DENSE_PAIRS:  # the (n, n) table would not fit: each permutation's pairs alone
        return _shuffled_echo_sparse(matrix, reply_rows, weight, perms) / denominator.T
    scaled = (_overlap_blocks(matrix, reply_rows, (n_g, n)) * weight[:, :, None]).reshape(n_g, -1)
    picks = np.arange(n) * n + perms[:, 0, :]  # (n_perm, n): entry (i, perm(i)) of each reply
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.take(scaled, picks, axis=1).sum(axis=-1) / denominator).T


def _shuffled_echo_sparse(matrix: sp.csr_matrix, reply_rows: np.ndarray, weight: np.ndarray,
                          perms: np.ndarray) -> np.ndarray:
    """The weighted shared-word sums of :func:`_shuffled_echo`, (n_perm, G), computed pair by
    pair for each permutation: memory linear in the replies, the same sums as the table's."""
    n_g, n = reply_rows.shape
    out = np.zeros((perms.shape[0], n_g))
    for g in range(n_g):
        replies = matrix[reply_rows[g]]
        for k in range(perms.shape[0]):
            answered = matrix[reply_rows[g][perms[k, 0, :]] - 1]
            shared = np.asarray(replies.multiply(answered).sum(axis=1)).ravel()
            out[k, g] = (shared * weight[g]).sum()
    return out


@messages_metric
@by_conversation
def who_ends(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.DataFrame:
    """Who sends the last substantive message, when each speaker first goes silent, who asks.

    A message is substantive when it is neither empty nor only an end marker, and silent
    otherwise. The question rate is the share of a speaker's messages containing a "?".

    Returns
    -------
    DataFrame
        ``conversation_id``, ``speaker``, ``role``, ``n_messages``, ``last_substantive_turn``
        (Int64), ``ends`` (this speaker sent the conversation's last substantive message),
        ``first_silent_turn`` (Int64; missing when never silent), ``question_rate``.
    """
    kept = _kept(messages, include_seed, extra=("text", "is_empty", "is_end_marker"),
                  func="who_ends")
    lengths = message_lengths(messages, include_seed=include_seed)
    silent = (kept["is_empty"] | kept["is_end_marker"]).to_numpy(bool)
    frame = lengths[["conversation_id", "speaker", "role", "turn"]].assign(
        question=kept["text"].str.contains("?", regex=False).to_numpy(bool))
    by = ["conversation_id", "speaker"]
    out = frame.groupby(by, sort=True).agg(role=("role", "first"), n_messages=("turn", "size"),
                                           question_rate=("question", "mean"))
    last = frame.loc[~silent].groupby(by)["turn"].max().reindex(out.index).astype("Int64")
    first_silent = frame.loc[silent].groupby(by)["turn"].min().reindex(out.index)
    conv_last = last.groupby(level="conversation_id").transform("max")
    out = out.assign(last_substantive_turn=last, ends=last.eq(conv_last).fillna(False),
                     first_silent_turn=first_silent.astype("Int64")).reset_index()
    return out[["conversation_id", "speaker", "role", "n_messages", "last_substantive_turn",
                "ends", "first_silent_turn", "question_rate"]].astype(
        {"n_messages": "int64", "ends": bool})


def who_ends_summary(ends: pd.DataFrame, *, decimals: int | None = 3) -> pd.DataFrame:
    """Corpus summary of :func:`who_ends` by role (opener / responder).

    Only conversations with at least two speakers count: in a monologue the only speaker ends
    by construction.

    Returns
    -------
    DataFrame
        ``role``, ``n_speakers``, ``n_ends`` (conversations whose last substantive message came
        from this role), ``share_ends`` (over conversations where someone ended substantively),
        ``n_silent`` (speakers who ever sent an empty or marker-only message),
        ``median_first_silent_turn``, ``mean_question_rate``.
    """
    ends = ends.loc[ends.groupby("conversation_id")["speaker"].transform("size") > 1]
    n_ended = ends.loc[ends["ends"], "conversation_id"].nunique()
    out = ends.assign(silent=ends["first_silent_turn"].notna()).groupby("role", sort=True).agg(
        n_speakers=("speaker", "size"), n_ends=("ends", "sum"), n_silent=("silent", "sum"),
        median_first_silent_turn=("first_silent_turn", "median"),
        mean_question_rate=("question_rate", "mean"))
    out = out.reset_index()
    out["share_ends"] = out["n_ends"] / n_ended if n_ended else np.nan
    out = out[["role", "n_speakers", "n_ends", "share_ends", "n_silent",
               "median_first_silent_turn", "mean_question_rate"]]
    return round_floats(out.astype({"median_first_silent_turn": float, "n_ends": "int64",
                                    "n_silent": "int64", "n_speakers": "int64"}), decimals)


def baseline_summary(table: pd.DataFrame, *, value: str | None = None,
                     decimals: int | None = 3) -> pd.DataFrame:
    """Corpus summary of an observed-versus-baseline table (``mirroring``, ``lexical_echo``).

    ``value`` is the tested statistic (:func:`tested_statistic`, the default):
    ``"rho_detrended"`` for ``mirroring`` under its default shift null, ``"rho"`` under
    ``null="permutation"``, ``"echo"`` for ``lexical_echo``.

    Returns
    -------
    DataFrame
        ``role`` (of the replier), ``n`` (directions with a value), ``median`` (observed),
        ``median_baseline`` (of the baseline means), ``n_above`` (observed above the baseline
        interval), ``share_above``, ``n_significant`` (p-value below 0.05; 0 for a table
        without p-values).
    """
    tested = tested_statistic(table)
    value = tested if value is None else value
    if value not in table.columns:
        raise ValueError(f"value: got {value!r}; expected a column of table, e.g. "
                         "'rho_detrended' (mirroring) or 'echo' (lexical_echo)")
    if "null" in table and value != tested:
        raise ValueError(f"value: got {value!r}, but the baseline of this table is of "
                         f"{tested!r}")
    clean = table.loc[table[value].notna()]
    above = clean[value] > clean["baseline_high"]
    significant = clean["p_value"] < 0.05 if "p_value" in clean else pd.Series(False, clean.index)
    out = clean.assign(above=above, significant=significant).groupby(
        "role", sort=True).agg(n=(value, "size"), median=(value, "median"),
                               median_baseline=("baseline_mean", "median"),
                               n_above=("above", "sum"),
                               n_significant=("significant", "sum")).reset_index()
    out = out.assign(share_above=out["n_above"] / out["n"]).astype(
        {"n": "int64", "n_above": "int64", "n_significant": "int64"})[
        ["role", "n", "median", "median_baseline", "n_above", "share_above", "n_significant"]]
    return round_floats(out, decimals)


@by_conversation
def _opener_words(messages: pd.DataFrame, *, unit: str, include_seed: bool) -> pd.DataFrame:
    """Per conversation: ``conversation_id``, ``total`` length and the opener's ``opener``."""
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)
    grouped = lengths.assign(
        opener=lengths["length"].where(lengths["role"] == "opener", 0)).groupby(
        "conversation_id", sort=True)
    return grouped.agg(total=("length", "sum"), opener=("opener", "sum")).reset_index()


@messages_metric
def model_matrix(
    messages: pd.DataFrame, *, collapse_threshold: float = 5, collapse_window: int = 4,
    unit: str = "words", include_seed: bool = False,
) -> pd.DataFrame:
    """Model-by-model table: the model that opened (row) against the model that answered (column).

    Models, not speakers: a self-play run (two speakers of one model) is on the diagonal.

    Returns
    -------
    DataFrame
        ``opener``, ``responder`` (models), ``n_conversations``, ``opener_share`` (mean over the
        pair's conversations of the opener's word share), ``n_collapsed``, ``collapse_turn`` (median
        over the conversations that collapsed, see :func:`q7x2_lib.metrics.length.collapse_turn`);
        conversations with a single speaker are left out.
    """
    words = _opener_words(messages, unit=unit, include_seed=include_seed).set_index(
        "conversation_id")
    totals, opener_words = words["total"], words["opener"]
    roles = speaker_roles(messages).dropna(subset=["responder"])
    roles = roles.assign(opener=roles["opener_model"], responder=roles["responder_model"])
    collapse = collapse_turn(messages, threshold=collapse_threshold, window=collapse_window,
                             unit=unit, include_seed=include_seed).set_index("conversation_id")
    ids = roles["conversation_id"]
    frame = roles.assign(
        share=(ids.map(opener_words).astype(float)
               / ids.map(totals).astype(float).replace(0, np.nan)),
        collapse_turn=ids.map(collapse["collapse_turn"]).astype(float))
    out = frame.groupby(["opener", "responder"], sort=True).agg(
        n_conversations=("conversation_id", "size"), opener_share=("share", "mean"),
        n_collapsed=("collapse_turn", "count"), collapse_turn=("collapse_turn", "median"))
    return out.reset_index().astype({"n_conversations": "int64", "n_collapsed": "int64"})
