"""The ``q7x2`` command: run the notebooks on a corpus, or summarise a corpus."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _figures(args: argparse.Namespace) -> int:
    from .runner import run_notebooks

    for path in run_notebooks(corpus=args.corpus, out=args.out, only=args.only or ()):
        print(f"wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import run_reports

    for path in run_reports(corpus=args.corpus, out=args.out, only=args.only or (),
                            code=args.code):
        print(f"wrote {path}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    from .._core.paths import NOTEBOOKS_DIR
    from .lab import run_lab

    return run_lab(NOTEBOOKS_DIR, port=args.port, open_browser=not args.no_browser)


def _info(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..io.corpus import read_corpus

    corpus = read_corpus(args.source, errors="skip")
    with pd.option_context("display.width", 120, "display.max_colwidth", 80):
        print(_printable(corpus.summary().to_string()))
        if len(corpus.problems):
            print()
            print(_printable(corpus.problems.to_string(index=False)))
    return 0


# Control characters (terminal escapes among them) and the marks that reorder text on screen:
# shown as escapes, so a file or block name cannot drive the terminal or disguise itself.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f"
                             "\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """``text`` with every control character and bidirectional mark shown as an escape."""
    return _UNPRINTABLE_RE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="q7x2", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser("figures", help="run every notebook (papermill) and write the figures")
    fig.add_argument("--corpus", help="file, folder or glob of transcripts (default: data/raw, "
                     "the committed notebooks rewritten in place)")
    fig.add_argument("--out", help="folder for the executed notebooks and figures of a run on "
                     "--corpus (default: runs/latest)")
    fig.add_argument("--only", nargs="*", help="notebook name prefixes to run, e.g. 00 02")
    fig.set_defaults(func=_figures)
    rep = sub.add_parser("report", help="write each executed notebook as a self-contained HTML "
                         "report (figures embedded)")
    rep.add_argument("--corpus", help="run the notebooks on this file, folder or glob first "
                     "(default: report the committed notebooks into reports/)")
    rep.add_argument("--out", help="folder for that run; reports go to <out>/reports")
    rep.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 00 02")
    code = rep.add_mutually_exclusive_group()
    code.add_argument("--fold-code", dest="code", action="store_const", const="fold",
                      help="code cells folded, one click to open (the default)")
    code.add_argument("--hide-code", dest="code", action="store_const", const="hide",
                      help="no code, only prose, tables and figures")
    code.add_argument("--show-code", dest="code", action="store_const", const="show")
    rep.set_defaults(func=_report, code="fold")
    lab = sub.add_parser("lab", help="JupyterLab on the notebooks; saving leaves a notebook as "
                         "make figures writes it (progress bars on)")
    lab.add_argument("--port", type=int, help="port to serve on (default 8888 or the next free)")
    lab.add_argument("--no-browser", action="store_true",
                     help="do not open a browser (a remote machine: open the printed URL)")
    lab.set_defaults(func=_lab)
    info = sub.add_parser("info", help="summarise a corpus and list its problems")
    info.add_argument("source", nargs="+", help="files, folders or globs")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``q7x2`` console script: a refused argument or an unreadable corpus
    is one line on stderr and exit status 2, not a traceback."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"q7x2 {args.command}: {_printable(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
