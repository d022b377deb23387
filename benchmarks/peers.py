"""``make bench-peers`` (part of ``make bench``): q7x2 against the honest floor and real peers.

Every figure is a ratio measured in this run, on this machine, on the same files:

- **reading against the per-format floor** (``floors.py``: list, read, decode, split on the
  format's own separator), on markdown-only corpora (what most users hold), markdown + JSON
  twins, and ``BENCH_CORPUS`` when given: best of ``--repeat`` interleaved runs, in one process;
- **memory of reading**, each reader in a fresh process: the peak resident set above the
  process's size once the libraries are imported, against the corpus's size on disk;
- **ConvoKit** (optional: ``benchmarks/requirements-convokit.txt``, installed ``--no-deps`` by
  ``make bench``) loading the same conversations from its own format and building its
  utterance table, against ``read_corpus`` on the markdown;
- **a plain pandas script** over the JSON exports (``json.load`` per file, a frame, word
  counts), against ``read_corpus`` on the same JSON files;
- **the core pass** (every length, turn-taking and attractor table once) and **the drift
  pass** (every drift table once) on the largest markdown-only corpus, with peak memory;
- **growth**: each step's time from 1,000 to 10,000 conversations (ideal 10) and on one
  conversation of 1,000 and of 20,000 messages (ideal 20: linear);
- **Dask**: the per-conversation metrics on a Parquet cache with two single-threaded worker
  processes against one process, beside the same parts split between two plain
  single-threaded processes run side by side (what Dask's scheduling costs or saves).

Prints a table and writes ``benchmarks/results/<date>-<machine>-peers.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors
from run import (
    CORPORA,
    RESULTS,
    SEED,
    best_of,
    core_pipeline,
    corpus_dir,
    current_mb,
    machine,
    machine_slug,
    peak_mb,
    reset_peak,
)

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000)
LONG = (1_000, 20_000)  # messages in the single long conversation
_COMPLETE = ".complete"

__all__ = ["main"]


# --- corpora ------------------------------------------------------------------------------------
def _cached(folder: Path, write) -> Path:
    """``folder``, written by ``write(folder)`` once (marked complete), then reused."""
    if not (folder / _COMPLETE).is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write(folder)
        (folder / _COMPLETE).write_text("")
    return folder


def markdown_corpus(n: int) -> Path:
    """``n`` synthetic conversations as markdown exports only (written once, then reused)."""
    from q7x2_lib.datasets import write_synthetic_corpus

    return _cached(CORPORA / f"md-n{n}-seed{SEED}", lambda folder: write_synthetic_corpus(
        folder, n_conversations=n, seed=SEED, formats=("md",)))


def json_corpus(n: int) -> Path:
    """The JSON exports of the twins corpus of ``n`` conversations, alone in a folder."""
    def write(folder: Path) -> None:
        for path in corpus_dir(n).glob("*.json"):
            shutil.copy(path, folder / path.name)

    return _cached(CORPORA / f"json-n{n}-seed{SEED}", write)


def convokit_corpus(markdown: Path) -> Path:
    """The markdown corpus in ConvoKit's on-disk format, written by ``Corpus.to_convokit``."""
    import q7x2_lib as q7

    return _cached(markdown.with_name(markdown.name + "-convokit"), lambda folder: q7.read_corpus(
        markdown, progress=False).to_convokit(folder))


def long_conversation(n_messages: int) -> Path:
    """One conversation of ``n_messages`` messages, as one markdown export."""
    from q7x2_lib.datasets import generate_conversation, to_markdown

    def write(folder: Path) -> None:
        conv = generate_conversation(SEED, model_a="gpt-5", model_b="claude-sonnet-4.5",
                                     n_messages=n_messages)
        (folder / "long.md").write_text(to_markdown(conv), encoding="utf-8")

    return _cached(CORPORA / f"long-{n_messages}-seed{SEED}", write)


# --- children: one measurement per fresh process --------------------------------------------------
def _child(kind: str, folder: Path) -> dict:
    """Run ``kind`` on ``folder`` in a fresh process; its seconds and memory."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)],
                         stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False,
                         env={**os.environ, "Q7X2_PROGRESS": "0"})
    if out.returncode != 0:
        return {"error": f"{kind} failed (exit {out.returncode}); its errors are above"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(load, work) -> dict:
    """Import what ``load`` needs, then time ``work`` with the peak memory above that point."""
    load()
    gc.collect()
    base = current_mb()
    reset_peak()
    t0 = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - t0
    peak = peak_mb()
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base,
            "above_mb": peak - base if base is not None else None, "rows": result}


def child(kind: str, folder: Path) -> dict:
    if kind == "q7x2":
        import q7x2_lib as q7

        return _measure(lambda: None, lambda: len(q7.read_corpus(folder, progress=False).messages))
    if kind == "convokit":
        def work() -> int:
            from convokit import Corpus

            return len(Corpus(filename=str(folder)).get_utterances_dataframe())
        return _measure(lambda: importlib.import_module("convokit"), work)
    if kind == "pandas":
        return _measure(lambda: importlib.import_module("pandas"), lambda: _pandas_script(folder))
    if kind == "passes":
        return _passes(folder)
    if kind.startswith("half"):
        return _half(folder, int(kind[len("half"):]))
    raise ValueError(kind)


def _half(cache: Path, k: int) -> dict:
    """Every other part of a Parquet cache (the ``k``-th of two), each part's per-conversation
    metrics on one thread: one of two workers dealt the parts in turn, with no Dask at all."""
    import pandas as pd

    import q7x2_lib as q7
    from q7x2_lib.apps import distributed
    from q7x2_lib.io.parquet import read_manifest, restore_dtypes

    q7.set_threads(1)
    manifest = read_manifest(cache)
    parts = [restore_dtypes(pd.read_parquet(cache / part["file"]), manifest["dtypes"]["messages"])
             .reset_index(drop=True) for part in manifest["messages_parts"][k::2]]
    metrics = distributed.per_conversation_metrics()
    t0 = time.perf_counter()
    for part in parts:
        for metric in metrics.values():
            metric(part)
    return {"seconds": time.perf_counter() - t0}


def _both_halves(cache: Path) -> float:
    """Seconds until both halves are done, run side by side in two fresh processes."""
    env = {**os.environ, "Q7X2_PROGRESS": "0"}
    runs = [subprocess.Popen([sys.executable, __file__, "--child", f"half{k}", str(cache)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            for k in (0, 1)]
    outs = [run.communicate()[0] for run in runs]
    if any(run.returncode for run in runs):
        raise RuntimeError("a half of the two-process run failed; its errors are above")
    return max(json.loads(out.strip().splitlines()[-1])["seconds"] for out in outs)


def _pandas_script(folder: Path) -> int:
    """What a user would write instead: every JSON export loaded, one row per message."""
    import pandas as pd

    rows = []
    for path in sorted(folder.glob("*.json")):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for turn, m in enumerate(data["messages"]):
            rows.append({"conversation_id": path.stem, "turn": turn, "speaker": m["speaker"],
                         "text": m["content"].strip()})
    frame = pd.DataFrame(rows)
    frame["n_words"] = frame["text"].str.split().str.len()
    return len(frame)


def _passes(folder: Path) -> dict:
    """Reading, the core pass and the drift pass, one after the other, as a notebook runs them;
    then the decay summary with each interval."""
    import q7x2_lib as q7

    steps = {}
    gc.collect()
    base = current_mb()
    state: dict = {}
    for name, run in (
            ("read_corpus", lambda: q7.read_corpus(folder, progress=False).messages),
            ("core pass", lambda: core_pipeline(state["messages"])),
            ("drift pass", lambda: _drift_pipeline(state["messages"])),
            # The core pass's costliest table with each decay interval (its bootstrap is the
            # default; Sen's rank interval needs no resampling).
            ("decay summary, bootstrap", lambda: q7.length_decay_summary(state["messages"])),
            ("decay summary, Sen interval",
             lambda: q7.length_decay_summary(state["messages"], interval="sen"))):
        q7.text.forget_token_codes()  # the drift pass tokenises afresh, as in a new session
        gc.collect()
        reset_peak()
        t0 = time.perf_counter()
        result = run()
        steps[name] = {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb()}
        state.setdefault("messages", result)
        del result
        print(f"    {folder.name}: {name} {steps[name]['seconds']:.1f} s", file=sys.stderr,
              flush=True)
    messages = state["messages"]
    return {"messages": len(messages), "base_mb": base, "steps": steps}


def _drift_pipeline(messages) -> dict:
    """Every drift table once, as notebook 03 computes them."""
    import q7x2_lib as q7

    return {"similarity": q7.similarity_by_turn(messages), "themes": q7.theme_rates(messages),
            "topics": q7.topics(messages), "novelty": q7.vocabulary_novelty(messages)}


# --- the parent ---------------------------------------------------------------------------------
def reading_ratios(folder: Path, repeat: int) -> dict:
    import q7x2_lib as q7

    times = best_of({"floor": lambda: floors.floor(folder),
                     "read_corpus": lambda: q7.read_corpus(folder, progress=False)}, repeat)
    return {"mb": floors.disk_mb(folder), "files": len(floors.corpus_files(folder)),
            "floor_s": times["floor"], "read_s": times["read_corpus"],
            "ratio": times["floor"] / times["read_corpus"]}


def dask_ratio(folder: Path) -> dict:
    """The per-conversation metrics with two single-threaded Dask workers against one process."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return {"error": "Dask's distributed is not installed"}
    import q7x2_lib as q7
    from q7x2_lib.apps import distributed

    corpus = q7.read_corpus(folder, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        cache = corpus.to_parquet(Path(tmp) / "cache", rows_per_part=25_000)
        metrics = distributed.per_conversation_metrics()
        t0 = time.perf_counter()
        for metric in metrics.values():
            metric(corpus.messages)
        one = time.perf_counter() - t0
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            distributed.compute_metrics(cache, ["message_lengths"], client=client)  # warm up
            t0 = time.perf_counter()
            distributed.compute_metrics(cache, client=client)
            two = time.perf_counter() - t0
        # No Dask: the same parts split between two plain processes, side by side.
        plain = _both_halves(cache)
    return {"one_s": one, "two_s": two, "ratio": one / two, "plain_s": plain,
            "plain_ratio": one / plain}


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "—" if x is None else format(x, spec)


def report(m: dict, results: dict) -> str:
    lines = [f"# q7x2 against the floor and its peers, {dt.date.today().isoformat()}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']:.1f} GB memory, "
             f"Python {m['python']}. Command: `make bench-peers` (`python benchmarks/peers.py`). "
             "Every ratio is measured in this run on the same files.", "",
             "## Reading against the per-format floor (best of interleaved runs, one process)",
             "", "| corpus | files | MB | floor s | `read_corpus` s | share of the floor "
             "| target |", "|---|---|---|---|---|---|---|"]
    for name, r in results["reading"].items():
        lines.append(f"| {name} | {r['files']:,} | {r['mb']:.0f} | {r['floor_s']:.2f} | "
                     f"{r['read_s']:.2f} | **{r['ratio']:.2f}** | ≥ 0.5 |")
    lines += ["", "## Peers on the same conversations (each in a fresh process)", "",
              "Memory: the peak resident set while loading, above the process once its "
              "libraries were imported, as a multiple of the corpus on disk.", "",
              "| what | seconds | time ÷ q7x2's | memory ÷ disk | peak above import MB |",
              "|---|---|---|---|---|"]
    for name, r in results["peers"].items():
        if "error" in r or "skipped" in r:
            lines.append(f"| {name} | {r.get('error') or r.get('skipped')} | | | |")
            continue
        lines.append(f"| {name} | {r['seconds']:.2f} | {_fmt(r.get('vs_q7x2'))} | "
                     f"{_fmt(r.get('memory_x_disk'))} | {_fmt(r['above_mb'], '.0f')} |")
    lines += ["", "## The passes on the largest markdown-only corpus", "",
              "Peak: the whole process's resident set while the step ran; above import: that "
              "peak less the process once its libraries were imported, against the corpus on "
              "disk.", "",
              "| step | messages | seconds | peak MB | above import MB | above import ÷ disk "
              "| target |", "|---|---|---|---|---|---|---|"]
    for name, r in results["passes"].items():
        lines.append(f"| {name} | {r['messages']:,} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |"
                     f" {_fmt(r['above_mb'], '.0f')} | {_fmt(r['above_x_disk'])} | "
                     f"{r['target']} |")
    lines += ["", "## Growth (time ratio; ideal: 10 for 10× the conversations, 20 for a "
              "conversation 20× as long)", "", "| step | " + " | ".join(results["growth"]) +
              " |", "|---|" + "---|" * len(results["growth"])]
    steps = list(next(iter(results["growth"].values())))
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(
            _fmt(g.get(step)) for g in results["growth"].values()) + " |")
    d = results["dask"]
    lines += ["", "## Dask", ""]
    if "error" in d:
        lines.append(f"Skipped: {d['error']}.")
    else:
        lines += ["| per-conversation metrics | seconds | ratio | target |", "|---|---|---|---|",
                  f"| one process | {d['one_s']:.1f} | 1 | |",
                  f"| two Dask workers × 1 thread | {d['two_s']:.1f} | **{d['ratio']:.2f}×** "
                  "| ≥ 1.6× |",
                  f"| the same parts split between two plain processes side by side, one "
                  f"thread each (no Dask) | {d['plain_s']:.1f} | "
                  f"{d['plain_ratio']:.2f}× | |"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    sizes = sorted(args.sizes)
    big = sizes[-1]
    print(f"corpora ({', '.join(map(str, sizes))} conversations) ...", flush=True)
    md = {n: markdown_corpus(n) for n in sizes}
    results: dict = {"reading": {}, "peers": {}, "passes": {}, "growth": {}}
    given = os.environ.get("BENCH_CORPUS")
    targets = {f"{big:,} markdown-only": md[big], f"{big:,} twins (md + JSON)": corpus_dir(big)}
    if given:
        targets[f"BENCH_CORPUS ({Path(given).name})"] = Path(given)
    for name, folder in targets.items():
        print(f"reading {name} ...", flush=True)
        results["reading"][name] = reading_ratios(folder, args.repeat)
    # Peers, each in a fresh process on the same conversations.
    print("peers ...", flush=True)
    disk = floors.disk_mb(md[big])
    q = _child("q7x2", md[big])
    q["memory_x_disk"] = q["above_mb"] / disk if q.get("above_mb") is not None else None
    q["vs_q7x2"] = 1.0
    results["peers"][f"q7x2 `read_corpus`, {big:,} markdown exports"] = q
    if importlib.util.find_spec("convokit") is None:
        results["peers"]["ConvoKit"] = {"skipped": "skipped: ConvoKit is not installed "
                                        "(pip install --no-deps -r "
                                        "benchmarks/requirements-convokit.txt)"}
    else:
        ck = _child("convokit", convokit_corpus(md[big]))
        if "error" not in ck:
            ck["vs_q7x2"] = ck["seconds"] / q["seconds"]
            ck["memory_x_disk"] = ck["above_mb"] / disk if ck["above_mb"] is not None else None
        results["peers"]["ConvoKit `Corpus(filename=…)` + utterances frame, same "
                         "conversations"] = ck
    js = json_corpus(big)
    js_disk = floors.disk_mb(js)
    qj = _child("q7x2", js)
    pj = _child("pandas", js)
    for r in (qj, pj):
        if "error" not in r:
            r["vs_q7x2"] = r["seconds"] / qj["seconds"]
            r["memory_x_disk"] = r["above_mb"] / js_disk if r["above_mb"] is not None else None
    results["peers"][f"q7x2 `read_corpus`, {big:,} JSON exports"] = qj
    results["peers"]["plain pandas script (`json.load` + frame + word counts), same JSON"] = pj
    # The passes and growth, each size in a fresh process.
    runs = {}
    for n in sizes:
        print(f"passes on {n:,} markdown-only conversations ...", flush=True)
        runs[n] = _child("passes", md[n])
    for n in LONG:
        print(f"passes on one conversation of {n:,} messages ...", flush=True)
        runs[f"long{n}"] = _child("passes", long_conversation(n))
    for name, r in runs[big]["steps"].items():
        target = {"read_corpus": "peak ≤ 2 × disk", "core pass": "< 40 s, peak ≤ 2 × disk",
                  "drift pass": "< 60 s"}.get(name, "(reported)")
        above = r["peak_mb"] - runs[big]["base_mb"] if runs[big]["base_mb"] else None
        results["passes"][name] = {**r, "messages": runs[big]["messages"], "above_mb": above,
                                   "above_x_disk": above / disk if above is not None else None,
                                   "target": target}
    if len(sizes) > 1:
        a, b = sizes[-2], sizes[-1]
        results["growth"][f"{a:,} → {b:,} conversations"] = {
            s: runs[b]["steps"][s]["seconds"] / runs[a]["steps"][s]["seconds"]
            for s in runs[b]["steps"]}
    results["growth"][f"one conversation, {LONG[0]:,} → {LONG[1]:,} messages"] = {
        s: runs[f"long{LONG[1]}"]["steps"][s]["seconds"]
        / runs[f"long{LONG[0]}"]["steps"][s]["seconds"] for s in runs[f"long{LONG[1]}"]["steps"]}
    results["dask"] = {"error": "--no-dask"} if args.no_dask else dask_ratio(md[big])
    m = machine()
    text = report(m, results)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{dt.date.today().isoformat()}-{machine_slug(m)}-peers.md"
    out.write_text(text, encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
