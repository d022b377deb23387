"""Benchmarks (``make bench``): reading, the Parquet cache, workers, every metric and the figures.

Generates seeded synthetic corpora (markdown + JSON twins) of 100, 1,000 and 10,000
conversations into ``benchmarks/corpora/`` (reused when complete), then measures:

- read throughput of ``read_corpus`` in MB/s on the largest corpus, beside the floor measured
  in the same process on the same files (list them, read the bytes, decode them, split each on
  its own format's separator, nothing else: ``floors.py``), best of ``--repeat`` interleaved
  runs, and the ratio;
- ``read_corpus(workers=-1)`` against one process, and the Parquet cache's reload against parsing;
- per corpus size, in a fresh child process: reading, then every metric (each public function of
  the metric modules that takes a messages table and needs nothing else), each with its wall time
  and peak memory, and the growth ratio between sizes;
- the figure pipeline (``q7x2 figures``) on the four seed transcripts and on each corpus size.

Peak memory is the peak resident set size of the process while a step ran: on Linux the kernel's
high-water mark (``VmHWM``), reset before each step through ``/proc/self/clear_refs``; elsewhere
``resource.getrusage``'s ``ru_maxrss`` (the peak since the process started). For the figure
pipeline it is the largest ``ru_maxrss`` among the processes it ran (the notebook kernels).

Prints a table and writes ``benchmarks/results/<date>-<machine>.md``. Public tools only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import inspect
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = HERE / "corpora"
RESULTS = HERE / "results"
SIZES = (100, 1_000, 10_000)
SEED = 0
METRIC_MODULES = ("length", "turns", "attractors", "drift")
CORE_MODULES = ("length", "turns", "attractors")  # the 60-second target; drift has its own
PACKAGES = ("pandas", "numpy", "pyarrow", "scipy", "scikit-learn", "dask", "distributed")
_COMPLETE = ".complete"  # hidden: read_corpus skips it

__all__ = ["main"]


# --- corpora -----------------------------------------------------------------------------------
def corpus_dir(n: int) -> Path:
    """The generated corpus of ``n`` conversations (written once, then reused)."""
    folder = CORPORA / f"n{n}-seed{SEED}"
    if not (folder / _COMPLETE).is_file():
        from q7x2_lib.datasets import write_synthetic_corpus

        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        write_synthetic_corpus(folder, n_conversations=n, seed=SEED)
        (folder / _COMPLETE).write_text("")
        print(f"  generated {n} conversations in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in files_of(folder)) / 1e6


# --- memory ------------------------------------------------------------------------------------
def reset_peak() -> None:
    """Reset the kernel's peak-RSS mark of this process (Linux); elsewhere a no-op."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def current_mb() -> float | None:
    """Resident memory of this process now, in MB (Linux; None elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mb() -> float:
    """Peak resident memory of this process, in MB (since the last reset where supported)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


# --- the child: read one corpus, then run every metric --------------------------------------
def metric_functions(modules: tuple[str, ...]) -> list[tuple[str, Callable]]:
    """Public functions of ``q7x2_lib.metrics.<module>`` that take a messages table and nothing
    else."""
    found = []
    for name in modules:
        module = importlib.import_module(f"q7x2_lib.metrics.{name}")
        for attr in getattr(module, "__all__", ()):
            func = getattr(module, attr)
            if not inspect.isfunction(func):
                continue
            params = list(inspect.signature(func).parameters.values())
            if (params and params[0].name == "messages" and all(
                    p.default is not p.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                    for p in params[1:])):
                found.append((f"{name}.{attr}", func))
    return found


def child(folder: Path, timeout_at: float) -> dict:
    """Read ``folder`` and run every metric on it; wall time and peak memory of each step."""
    import q7x2_lib as q7

    steps = {}
    gc.collect()
    baseline = current_mb()
    reset_peak()
    t0 = time.perf_counter()
    messages = q7.read_corpus(folder, progress=False).messages
    steps["read_corpus"] = {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb()}
    print(f"    read_corpus: {_fmt_s(steps['read_corpus']['seconds'])}", file=sys.stderr,
          flush=True)
    # The single pass first, straight after reading, as a notebook or script would run it.
    gc.collect()
    reset_peak()
    t0 = time.perf_counter()
    core_pipeline(messages)
    steps["pipeline"] = {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb()}
    print(f"    pipeline: {_fmt_s(steps['pipeline']['seconds'])}", file=sys.stderr, flush=True)
    for name, func in metric_functions(METRIC_MODULES):
        if time.perf_counter() > timeout_at:
            steps[name] = {"seconds": None, "peak_mb": None, "error": "skipped: time limit"}
            continue
        q7.text.forget_token_codes()  # each function alone: no tokens from the one before
        gc.collect()
        reset_peak()
        t0 = time.perf_counter()
        try:
            func(messages)
            steps[name] = {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb()}
        except Exception as exc:  # a benchmark reports a failing metric and goes on
            steps[name] = {"seconds": None, "peak_mb": None,
                           "error": f"{type(exc).__name__}: {exc}"[:200]}
        print(f"    {name}: {_fmt_s(steps[name]['seconds'])}", file=sys.stderr, flush=True)
    return {"messages": len(messages), "baseline_mb": baseline, "steps": steps}


def core_pipeline(messages) -> dict:
    """Every length, turn-taking and attractor table once, as a notebook computes them.

    The per-function rows above time each public function alone, so wrappers count their parts
    again (``length_decay_summary`` refits what ``decay_fit`` fits; ``end_states`` recomputes
    ``loops``, which recomputes ``near_repeats``). This is the single pass the 60-second target
    is about: each table computed once, later ones reusing earlier ones.
    """
    import q7x2_lib as q7

    out = {"summary": q7.length_decay_summary(messages),
           "profile": q7.length_profile(messages),
           "markers": q7.end_marker_share(messages),
           "share": q7.word_share(messages)}
    out["dominance"] = q7.dominance(messages, shares=out["share"])
    out |= {"ratio": q7.reply_ratio_profile(messages), "mirroring": q7.mirroring(messages),
            "who_ends": q7.who_ends(messages), "echo": q7.lexical_echo(messages),
            "matrix": q7.model_matrix(messages)}
    repeats = q7.near_repeats(messages)
    out["loops"] = q7.loops(messages, repeats=repeats)
    out["end_states"] = q7.end_states(messages, loops_table=out["loops"])
    return out


def run_child(folder: Path, limit_s: float) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", str(folder), "--limit", str(limit_s)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False,
        env={**os.environ, "Q7X2_PROGRESS": "0"},
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed on {folder} (its errors are above)")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- reading, workers, Parquet ---------------------------------------------------------------
def floor(folder: Path) -> int:
    """List, read, decode and split every file on its own format's separator (``floors.py``)."""
    return floors.floor(folder)


def best_of(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall time of each callable over ``repeat`` rounds, the callables interleaved."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            t0 = time.perf_counter()
            result = run()
            best[name] = min(best[name], time.perf_counter() - t0)
            del result
    return best


def reading(folder: Path, repeat: int) -> dict:
    import pandas as pd

    import q7x2_lib as q7

    files = files_of(folder)
    mb = sum(p.stat().st_size for p in files) / 1e6
    times = best_of({"floor": lambda: floor(folder),
                     "read_corpus": lambda: q7.read_corpus(folder, progress=False)}, repeat)
    workers = best_of({"workers": lambda: q7.read_corpus(folder, progress=False, workers=-1)},
                      max(1, repeat - 1))
    corpus = q7.read_corpus(folder, progress=False)
    pd.testing.assert_frame_equal(corpus.messages,
                                  q7.read_corpus(folder, progress=False, workers=-1).messages)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        corpus.to_parquet(Path(tmp) / "cache")
        write_s = time.perf_counter() - t0
        reload = best_of({"reload": lambda: q7.read_corpus(Path(tmp) / "cache")}, repeat)
        again = q7.read_corpus(Path(tmp) / "cache")
        for table in ("messages", "conversations", "problems"):
            pd.testing.assert_frame_equal(getattr(corpus, table), getattr(again, table))
        cache_mb = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / 1e6
    return {"mb": mb, "files": len(files), "messages": len(corpus.messages),
            "floor_s": times["floor"], "read_s": times["read_corpus"],
            "workers_s": workers["workers"], "cores": _cores(), "parquet_write_s": write_s,
            "parquet_reload_s": reload["reload"], "parquet_mb": cache_mb}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- figures -----------------------------------------------------------------------------------
def figures(folder: Path | None, limit_s: float) -> dict:
    """``q7x2 figures`` on ``folder`` (None: the four seeds) in a fresh child process, so that
    the peak memory of its descendants (the notebook kernels) is this run's alone."""
    cmd = [sys.executable, str(Path(__file__)), "--figures-child", str(folder or "-"),
           "--limit", str(limit_s)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        return {"seconds": None, "peak_mb": None, "error": "failed (its errors are above)"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def figures_child(folder: str, limit_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(Path(sys.executable).with_name("q7x2")), "figures", "--out", tmp]
        if folder != "-":
            cmd += ["--corpus", folder]
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True, cwd=ROOT, timeout=limit_s, check=False)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "peak_mb": None, "error": f"over the {limit_s:.0f} s limit"}
        seconds = time.perf_counter() - t0
    if out.returncode != 0:
        return {"seconds": None, "peak_mb": None, "error": out.stderr.strip()[-300:]}
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return {"seconds": seconds, "peak_mb": rss / scale}


# --- machine -----------------------------------------------------------------------------------
def machine() -> dict:
    """CPU model, cores, memory, OS, Python and package versions; never the host name."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("q7x2", *PACKAGES):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": cpu, "cores": _cores(), "memory_gb": round(mem_gb, 1),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "packages": versions}


def machine_slug(m: dict) -> str:
    cpu = re.sub(r"\((?:R|TM)\)|cpu|processor|@.*", "", m["cpu"], flags=re.IGNORECASE)
    cpu = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")
    py = "".join(m["python"].split(".")[:2])
    return f"{cpu}-{m['cores']}cores-{m['memory_gb']:.0f}gb-py{py}"


# --- report ------------------------------------------------------------------------------------
def _fmt_s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def _fmt_mb(mb: float | None) -> str:
    return "—" if mb is None else f"{mb:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if not a or not b else f"{b / a:.1f}×"


def metric_table(sizes: list[int], runs: dict[int, dict]) -> list[str]:
    head = ["step"] + [f"{n:,} s" for n in sizes] + [f"{n:,} MB" for n in sizes]
    head += [f"time ×, size ×{b / a:g}" for a, b in zip(sizes, sizes[1:], strict=False)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    names = list(dict.fromkeys(name for n in sizes for name in runs[n]["steps"]))
    for name in names:
        cells = [runs[n]["steps"].get(name, {}) for n in sizes]
        row = [f"`{name}`"] + [_fmt_s(c.get("seconds")) for c in cells]
        row += [_fmt_mb(c.get("peak_mb")) for c in cells]
        row += [_ratio(a.get("seconds"), b.get("seconds")) for a, b in zip(cells, cells[1:],
                                                                            strict=False)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def totals(run: dict) -> dict:
    steps = run["steps"]
    core = [s["seconds"] for k, s in steps.items()
            if k.split(".")[0] in CORE_MODULES and s["seconds"] is not None]
    pipe = steps.get("pipeline", {})
    drift = [s["seconds"] for k, s in steps.items()
             if k.startswith("drift.") and s["seconds"] is not None]
    peak = max((s["peak_mb"] or 0) for k, s in steps.items()
               if k == "read_corpus" or k.split(".")[0] in CORE_MODULES)
    failed = [k for k, s in steps.items() if s["seconds"] is None]
    return {"core_s": steps["read_corpus"]["seconds"] + sum(core), "drift_s": sum(drift),
            "pipeline_s": (steps["read_corpus"]["seconds"] + pipe["seconds"]
                           if pipe.get("seconds") is not None else None),
            # Reading and the pipeline run back to back: the larger of their peaks.
            "pipeline_mb": (max(pipe["peak_mb"], steps["read_corpus"]["peak_mb"])
                            if pipe.get("peak_mb") is not None else None),
            "peak_mb": peak, "above_mb": peak - (run["baseline_mb"] or 0), "failed": failed,
            "read_mb": steps["read_corpus"]["peak_mb"]}


def growth_flags(sizes: list[int], runs: dict[int, dict]) -> list[str]:
    """Steps whose time grows clearly faster than the corpus between the two largest sizes."""
    if len(sizes) < 2:
        return []
    a, b = sizes[-2], sizes[-1]
    scale = runs[b]["messages"] / runs[a]["messages"]
    flags = []
    for name, step in runs[b]["steps"].items():
        ta, tb = runs[a]["steps"].get(name, {}).get("seconds"), step.get("seconds")
        if ta and tb and tb > 0.5 and tb / ta > 1.5 * scale:
            flags.append(f"`{name}`: ×{tb / ta:.1f} time for ×{scale:.1f} messages")
    return flags


def report(m: dict, read: dict, sizes: list[int], runs: dict[int, dict], figs: dict) -> str:
    big = max(sizes)
    floor_mbs, read_mbs = read["mb"] / read["floor_s"], read["mb"] / read["read_s"]
    t = totals(runs[big])
    disk = runs[big]["disk_mb"]
    lines = [
        f"# q7x2 benchmarks, {dt.date.today().isoformat()}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB memory, {m['os']}, "
        f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + ".",
        "",
        "Corpora: `q7x2_lib.datasets.write_synthetic_corpus(n_conversations=N, seed=0)`, "
        "markdown and JSON twins of every conversation. Command: `make bench` "
        "(`python benchmarks/run.py`).",
        "",
        f"## Reading ({read['files']:,} files, {read['mb']:.0f} MB, {read['messages']:,} "
        "messages)",
        "",
        "| measure | seconds | MB/s | ratio |",
        "|---|---|---|---|",
        f"| floor: list + read + decode + split on each format's separator | "
        f"{read['floor_s']:.2f} | "
        f"{floor_mbs:.0f} | 1 |",
        f"| `read_corpus(folder)`, one process | {read['read_s']:.2f} | {read_mbs:.0f} | "
        f"{read_mbs / floor_mbs:.0%} of the floor |",
        f"| `read_corpus(folder, workers=-1)`, {read['cores']} processes | "
        f"{read['workers_s']:.2f} | {read['mb'] / read['workers_s']:.0f} | "
        f"{read['read_s'] / read['workers_s']:.2f}× one process |",
        f"| `Corpus.to_parquet` (write, {read['parquet_mb']:.0f} MB) | "
        f"{read['parquet_write_s']:.2f} | | |",
        f"| `read_corpus(<parquet cache>)` | {read['parquet_reload_s']:.2f} | | "
        f"{read['read_s'] / read['parquet_reload_s']:.0f}× faster than parsing |",
        "",
        "## Every step at each corpus size (fresh process per size)",
        "",
        "Sizes: " + ", ".join(f"{n:,} conversations = {runs[n]['messages']:,} messages, "
                              f"{runs[n]['disk_mb']:.0f} MB on disk" for n in sizes) + ".",
        "Time in seconds; peak memory (resident set of the whole process, "
        f"{runs[big]['baseline_mb'] or 0:.0f} MB of it the interpreter and libraries before "
        "reading) in MB while the step ran; growth of the time from one size to the next.",
        "",
        *metric_table(sizes, runs),
        "",
        "## Figure pipeline (`q7x2 figures`)",
        "",
        "| corpus | seconds | peak MB (largest process) |",
        "|---|---|---|",
        *[f"| {label} | {_fmt_s(r.get('seconds'))} | {_fmt_mb(r.get('peak_mb'))} |"
          + (f" {r['error']}" if r.get("error") else "") for label, r in figs.items()],
        "",
        "## Targets",
        "",
        *targets(read, t, disk, figs, big),
        "",
    ]
    flags = growth_flags(sizes, runs)
    lines += ["## Growth faster than the corpus", ""]
    lines += [f"- {f}" for f in flags] or ["- none (between the two largest sizes)"]
    if t["failed"]:
        lines += ["", "## Steps that failed or were skipped", ""]
        lines += [f"- `{k}`: {runs[big]['steps'][k].get('error')}" for k in t["failed"]]
    return "\n".join(lines) + "\n"


def targets(read: dict, t: dict, disk: float, figs: dict, big: int) -> list[str]:
    ratio = read["floor_s"] / read["read_s"]
    seeds = figs.get("4 seed transcripts", {}).get("seconds")
    thousand = figs.get("1,000 conversations", {}).get("seconds")

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("met" if ok else "**not met**")

    rows = [
        ("`read_corpus` ≥ 50% of the per-format floor, one process", f"{ratio:.0%}",
         verdict(ratio >= 0.5)),
        ("`workers=-1` faster than one process on thousands of files",
         f"{read['read_s'] / read['workers_s']:.2f}×", verdict(read["workers_s"] < read["read_s"])),
        ("Parquet reload ≥ 10× faster than parsing",
         f"{read['read_s'] / read['parquet_reload_s']:.0f}×",
         verdict(read["read_s"] / read["parquet_reload_s"] >= 10)),
        (f"{big:,} conversations: reading + every length, turn-taking, attractor table once "
         "(`core_pipeline`) < 60 s", f"{_fmt_s(t['pipeline_s'])} s",
         verdict(None if t["pipeline_s"] is None else t["pipeline_s"] < 60)),
        (f"{big:,} conversations: reading + `core_pipeline`, peak memory of the process < 2.5 × "
         f"corpus on disk ({disk:.0f} MB, twins)",
         f"{_fmt_mb(t['pipeline_mb'])} MB = {(t['pipeline_mb'] or 0) / disk:.2f}× "
         f"({(t['pipeline_mb'] or 0) - (t['peak_mb'] - t['above_mb']):.0f} MB above the "
         "interpreter and libraries)",
         verdict(None if t["pipeline_mb"] is None else t["pipeline_mb"] < 2.5 * disk)),
        (f"{big:,} conversations: `read_corpus` alone, peak memory < 2.5 × corpus on disk",
         f"{t['read_mb']:.0f} MB = {t['read_mb'] / disk:.2f}×", verdict(t["read_mb"] < 2.5 * disk)),
        (f"for reference, {big:,} conversations: reading + every public length, turn-taking, "
         "attractor function run alone, summed (wrappers count their parts again)",
         f"{t['core_s']:.0f} s", "—"),
        (f"for reference, {big:,} conversations: highest peak of those functions run alone",
         f"{t['peak_mb']:.0f} MB = {t['peak_mb'] / disk:.2f}×", "—"),
        ("thematic drift metrics < 3 minutes more", f"{t['drift_s']:.0f} s",
         verdict(t["drift_s"] < 180)),
        ("figures on the 4 seeds < 60 s", f"{_fmt_s(seeds)} s",
         verdict(None if seeds is None else seeds < 60)),
        ("figures on 1,000 conversations < 5 minutes", f"{_fmt_s(thousand)} s",
         verdict(None if thousand is None else thousand < 300)),
    ]
    return ["| target | measured | |", "|---|---|---|",
            *[f"| {a} | {b} | {c} |" for a, b, c in rows]]


# --- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="corpus sizes in conversations (default 100 1000 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the read timings")
    parser.add_argument("--limit", type=float, default=1800,
                        help="seconds after which a size's remaining metrics, or a figure run, "
                        "are skipped (default 1800)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figure pipeline")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--figures-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, time.perf_counter() + args.limit)))
        return 0
    if args.figures_child:
        print(json.dumps(figures_child(args.figures_child, args.limit)))
        return 0
    sizes = sorted(args.sizes)
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}")
    folders = {n: corpus_dir(n) for n in sizes}
    print(f"reading {folders[sizes[-1]].name} (floor, read_corpus, workers, Parquet) ...",
          flush=True)
    read = reading(folders[sizes[-1]], args.repeat)
    runs = {}
    for n in sizes:
        print(f"every step on {n:,} conversations (child process) ...", flush=True)
        runs[n] = {**run_child(folders[n], args.limit), "disk_mb": disk_mb(folders[n])}
    figs = {}
    if not args.no_figures:
        for label, folder in [("4 seed transcripts", None),
                              *[(f"{n:,} conversations", folders[n]) for n in sizes]]:
            print(f"figures on {label} ...", flush=True)
            figs[label] = figures(folder, args.limit)
    text = report(m, read, sizes, runs, figs)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{dt.date.today().isoformat()}-{machine_slug(m)}.md"
    out.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
