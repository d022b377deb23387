"""Coverage and false-positive rates of q7x2's intervals and tests on autocorrelated conversations.

    python benchmarks/coverage.py [--reps 400] [--seed 0]      (make bench-coverage)

Real conversations are not independent draws: a model that wrote a long message tends to write
another, lengths drift in regimes, topics persist. This benchmark simulates conversations shaped
like real orchestrator runs (100 generated messages, two speakers alternating) whose log lengths
follow a known trend plus noise of known dependence, runs the package's metrics on them with their
defaults, and prints how often a 95% interval covers the true value and how often a 5% test calls
independent speakers related, beside the nominal level and the target.

Settings (``--reps`` conversations each):

- ``iid``: independent noise on log length; ``ar 0.5``, ``ar 0.8``: AR(1) noise in each speaker's
  own messages (same marginal spread); ``heavy``: AR(1) 0.5 with Student-t (3 df) innovations;
  ``regime``: each speaker's own two-level Markov regime (kept with probability 0.95 from one
  of its messages to the next) added to iid noise.
- ``cliff``: long messages, then one word from message 60: a step, not a decay.
- ``shared trend``: both speakers decay at the same rate with independent noise: no mirroring.
  (The other mirroring rows use the same noise without a trend.)
- ``topics 0.5``, ``0.8``, ``0.95``: each speaker's words come from its own topic, which it keeps
  with that probability from one message to the next, independent of the other speaker: no echo.
- Power: ``mirror`` (the responder's log-length noise is 0.6 times that of the message it
  answers plus its own) and ``topics 0.8 echo`` (each reply takes up five words of the message it
  answers): how often the tests find what is there.

Log length is ``a_speaker - rate * turn + noise`` with ``a = 5.0`` (opener) and ``4.6``
(responder), ``rate = 0.02`` per turn and noise of standard deviation 0.5, so the true decay
rate is 0.02 and the expected word share of each speaker is known in closed form.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

import q7x2_lib as q7
from q7x2_lib._core.schema import messages_frame

N_MESSAGES = 100
RATE = 0.02
LEVELS = (5.0, 4.6)
SD = 0.5


def _ar(rng: np.random.Generator, n: int, phi: float, heavy: bool) -> np.ndarray:
    """A stationary AR(1) series of standard deviation SD (innovations normal or t with 3 df)."""
    shocks = rng.standard_t(3, n) / np.sqrt(3.0) if heavy else rng.standard_normal(n)
    shocks *= SD * np.sqrt(1 - phi * phi)
    out = np.empty(n)
    out[0] = shocks[0] / np.sqrt(1 - phi * phi)
    for k in range(1, n):
        out[k] = phi * out[k - 1] + shocks[k]
    return out


def log_lengths(rng: np.random.Generator, setting: str, rate: float = RATE) -> np.ndarray:
    """Log(1 + length) of the 100 messages of one simulated conversation."""
    turn = np.arange(1, N_MESSAGES + 1)
    level = np.where(turn % 2 == 1, LEVELS[0], LEVELS[1])
    phi = {"ar 0.5": 0.5, "ar 0.8": 0.8, "heavy": 0.5}.get(setting, 0.0)
    noise = np.empty(N_MESSAGES)
    for s in (0, 1):
        noise[s::2] = _ar(rng, N_MESSAGES // 2, phi, heavy=setting == "heavy")
    if setting == "regime":  # each speaker switches between its own two levels
        for s in (0, 1):
            state = int(rng.integers(2))
            for k in range(s, N_MESSAGES, 2):
                state = state if rng.random() < 0.95 else 1 - state
                noise[k] += 0.6 if state else -0.6
    if setting == "cliff":
        return np.where(turn < 60, LEVELS[0] + noise * 0.3, np.log(2.0))
    if setting == "mirror":  # the responder's noise follows the message it answers
        noise[1::2] = 0.6 * noise[0::2] + 0.8 * noise[1::2]
    return level - rate * turn + noise


def expected_share() -> float:
    """The opener's expected share of the words under the length model (lognormal means)."""
    turn = np.arange(1, N_MESSAGES + 1)
    level = np.where(turn % 2 == 1, LEVELS[0], LEVELS[1])
    mean = np.exp(level - RATE * turn + SD * SD / 2) - 1
    return float(mean[turn % 2 == 1].sum() / mean.sum())


_VOCAB = [f"w{k}x" for k in range(2000)]  # 2,000 content-like words; 40 topics of 50 words


def topic_texts(rng: np.random.Generator, stay: float, echo: bool = False) -> list[str]:
    """Messages whose words come from each speaker's persistent topic (independent speakers;
    with ``echo``, each reply also takes up five words of the message it answers)."""
    topic = {0: int(rng.integers(40)), 1: int(rng.integers(40))}
    out = []
    for k in range(N_MESSAGES):
        s = k % 2
        if rng.random() > stay:
            topic[s] = int(rng.integers(40))
        own = rng.integers(0, 50, 14) + 50 * topic[s]
        general = rng.integers(0, 2000, 6)
        words = [_VOCAB[i] for i in np.concatenate([own, general])]
        if echo and out:
            words[:5] = list(rng.choice(out[-1].split(), 5, replace=False))
        out.append(" ".join(words))
    return out


def corpus(setting: str, reps: int, seed: int, rate: float = RATE) -> pd.DataFrame:
    rng = np.random.default_rng([seed, sum(map(ord, setting)), int(rate > 0)])
    ids, turns, speakers, texts = [], [], [], []
    for r in range(reps):
        if setting.startswith("topics"):
            bodies = topic_texts(rng, float(setting.split()[1]), echo=setting.endswith("echo"))
        else:
            lengths = np.maximum(np.rint(np.expm1(log_lengths(rng, setting, rate))), 0).astype(int)
            bodies = [" ".join(["w"] * n) for n in lengths]
        ids += [f"sim{r:04d}"] * N_MESSAGES
        turns += list(range(1, N_MESSAGES + 1))
        speakers += ["A", "B"] * (N_MESSAGES // 2)
        texts += bodies
    n = len(ids)
    return messages_frame(ids, turns, speakers, texts, [False] * n, ["sim"] * n)


def _rate(hit: pd.Series) -> float:
    return float(np.mean(hit.to_numpy(bool)))


def measure(reps: int, seed: int) -> pd.DataFrame:
    rows = []
    share = expected_share()

    def row(measure: str, setting: str, nominal: float, value: float, target: str, secs: float):
        rows.append({"measure": measure, "setting": setting, "nominal": nominal,
                     "measured": round(value, 3), "target": target, "seconds": round(secs, 2)})

    for setting in ("iid", "ar 0.5", "ar 0.8", "heavy", "regime", "cliff", "shared trend"):
        m = corpus("iid" if setting == "shared trend" else setting, reps, seed)
        t0 = time.perf_counter()
        fit = q7.decay_fit(m)
        t_fit = time.perf_counter() - t0
        if setting == "cliff":
            flagged = fit["shape"] == "step" if "shape" in fit else pd.Series(False, fit.index)
            row("decay_fit flags a step", setting, 1.0, _rate(flagged), ">= 0.90", t_fit)
            row("decay_fit interval excludes 0 (a confident decay)", setting, 0.0,
                _rate(fit["rate_low"] > 0), "(reported)", t_fit)
            continue
        if setting != "shared trend":
            cover = (fit["rate_low"] <= RATE) & (RATE <= fit["rate_high"])
            target = {"ar 0.5": ">= 0.90"}.get(setting, "(reported)")
            row("decay_fit 95% interval covers the rate", setting, 0.95, _rate(cover), target,
                t_fit)
            t0 = time.perf_counter()
            sen = q7.decay_fit(m, interval="sen")
            cover = (sen["rate_low"] <= RATE) & (RATE <= sen["rate_high"])
            row('decay_fit(interval="sen") 95% interval covers the rate', setting, 0.95,
                _rate(cover), "(reported)", time.perf_counter() - t0)
            if "shape" in fit:
                row("decay_fit flags a step (should not)", setting, 0.0,
                    _rate(fit["shape"] == "step"), "(reported)", t_fit)
            t0 = time.perf_counter()
            ws = q7.word_share(m)
            secs = time.perf_counter() - t0
            a = ws[ws["speaker"] == "A"]
            cover = (a["share_low"] <= share) & (share <= a["share_high"])
            target = {"ar 0.5": ">= 0.85"}.get(setting, "(reported)")
            row("word_share 95% interval covers the expected share", setting, 0.95,
                _rate(cover), target, secs)
        # Mirroring is about the noise, so its settings have no trend, except "shared trend".
        flat = m if setting == "shared trend" else corpus(setting, reps, seed, rate=0.0)
        t0 = time.perf_counter()
        mir = q7.mirroring(flat)
        secs = time.perf_counter() - t0
        target = {"ar 0.5": "<= 0.06", "shared trend": "<= 0.10"}.get(setting, "(reported)")
        row("mirroring p < 0.05 for independent speakers", setting, 0.05,
            _rate(mir["p_value"] < 0.05), target, secs)
    m = corpus("mirror", reps, seed, rate=0.0)
    t0 = time.perf_counter()
    mir = q7.mirroring(m)
    row("mirroring p < 0.05 for the responder who mirrors (power)", "mirror", 1.0,
        _rate(mir.loc[mir["speaker"] == "B", "p_value"] < 0.05), "(reported)",
        time.perf_counter() - t0)
    for setting in ("topics 0.5", "topics 0.8", "topics 0.95", "topics 0.8 echo"):
        m = corpus(setting, reps, seed)
        t0 = time.perf_counter()
        echo = q7.lexical_echo(m)
        secs = time.perf_counter() - t0
        if setting.endswith("echo"):
            row("lexical_echo p < 0.05 when replies take up 5 words (power)", setting, 1.0,
                _rate(echo["p_value"] < 0.05), "(reported)", secs)
            continue
        row("lexical_echo p < 0.05 for independent speakers", setting, 0.05,
            _rate(echo["p_value"] < 0.05), "<= 0.06" if setting == "topics 0.8" else "(reported)",
            secs)
    return pd.DataFrame(rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="conversations per setting")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    np.seterr(all="ignore")
    table = measure(args.reps, args.seed)
    print(f"q7x2 {q7.__version__}: {args.reps} simulated conversations of {N_MESSAGES} messages "
          f"per setting\n")
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main(sys.argv[1:])
