"""Read theme lexicons from TOML files; the built-in lexicon ships inside the package."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from pathlib import Path

import pandas as pd

from .._core.paths import resolve_path

__all__ = ["DEFAULT_LEXICON", "default_lexicon", "load_lexicon"]

#: The built-in lexicon (package data, so an installed q7x2 has it too). Copy it to edit it.
DEFAULT_LEXICON = Path(__file__).resolve().parent / "lexicons" / "themes.toml"
_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_TERM_RE = re.compile(r"[^\s*]+(?:\s+[^\s*]+)*\*?")


@functools.cache
def _default_table() -> pd.DataFrame:
    return load_lexicon(DEFAULT_LEXICON)


def default_lexicon() -> pd.DataFrame:
    """The built-in theme lexicon as a table (``theme``, ``label``, ``term``), read once."""
    return _default_table().copy()


def load_lexicon(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read a theme lexicon from a TOML file (default: the built-in ``DEFAULT_LEXICON``).

    The file holds one table per theme, ``[themes.<key>]`` with ``label`` (text) and ``terms``
    (a list of words, phrases, emoji, or prefixes ending in ``*``). See
    ``q7x2_lib/io/lexicons/README.md``. A relative path resolves against the project root.

    Raises
    ------
    ValueError
        When the file is missing, is not valid TOML or does not have that shape; the message
        names the problem and ends ``"(at FILE, line N)"``.

    Returns
    -------
    DataFrame
        One row per term in file order: ``theme``, ``label``, ``term``.
    """
    file = resolve_path(path if path is not None else DEFAULT_LEXICON)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read lexicon: {err.strerror} (at {file}, line 1)") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = _TOML_LINE_RE.search(str(err))
        reason = _TOML_LINE_RE.sub("", str(err)).strip()
        where = line.group(1) if line else "1"
        raise ValueError(f"lexicon is not valid TOML: {reason} (at {file}, line {where})") from err
    rows = [row for key, theme in _themes_table(data, file).items()
            for row in _theme_rows(key, theme, file, text)]
    return pd.DataFrame(rows, columns=["theme", "label", "term"], dtype="string")


def _themes_table(data: dict, file: os.PathLike[str]) -> dict:
    themes = data.get("themes")
    if not isinstance(themes, dict) or not themes:
        raise ValueError("lexicon has no [themes.<name>] tables; expected e.g. [themes.silence] "
                         f'with label = "..." and terms = ["..."] (at {file}, line 1)')
    return themes


def _theme_rows(key: str, theme: object, file: os.PathLike[str], text: str) -> list[tuple]:
    line = _line_of(text, f"[themes.{key}]")
    where = f"(at {file}, line {line})"
    if not isinstance(theme, dict):
        raise ValueError(f"theme {key!r} must be a table with label and terms {where}")
    label, terms = theme.get("label", key), theme.get("terms")
    if not isinstance(label, str):
        raise ValueError(f"theme {key!r}: label must be text, got {label!r} {where}")
    if not isinstance(terms, list) or not terms:
        raise ValueError(f"theme {key!r}: terms must be a non-empty list of strings, "
                         f"got {terms!r} {where}")
    for term in terms:
        if not isinstance(term, str) or not _TERM_RE.fullmatch(term.strip()):
            raise ValueError(f"theme {key!r}: bad term {term!r}; expected a word, phrase or "
                             f"emoji, optionally ending in '*' {where}")
    return [(key, label, term.strip().lower()) for term in terms]


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


