"""Exploring a corpus in JupyterLab: a table that finds conversations, search, side by side.

- :func:`conversation_table` (``Corpus.list_conversations()``): one row per conversation with the
  columns a researcher sorts and filters by, a plain DataFrame everywhere.
- :class:`Explorer` (``Corpus.explore()``): that table as an interactive, sortable, searchable
  ITable widget whose selected row opens the conversation below it; where the widget cannot be
  shown (nbval, an HTML report) it displays as the plain table.
- :func:`search` (``Corpus.search()``): messages matching a pattern, with highlighted context, in
  time linear in the text whatever the pattern (RE2, no backtracking).
- :func:`compare` (``Corpus.compare()``): two conversations aligned by turn.

Nothing from a transcript reaches a page as markup: every text is escaped (the chat view's
``render_markdown`` or ``html.escape``) before it is placed in HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..metrics.attractors import end_states, loops, near_repeats
from ..metrics.length import collapse_turn
from .viewer import _MUTED, _body_html, conversation_list, conversation_view

__all__ = ["TABLE_COLUMNS", "Comparison", "Explorer", "SearchResults", "compare",
           "conversation_table", "search"]

#: The columns of :func:`conversation_table`, in order.
TABLE_COLUMNS = ("conversation_id", "title", "models", "n_messages", "n_words", "end_state",
                 "end_state_by", "loop_onset", "loop_period", "collapse_turn", "problems",
                 "format", "started", "ending")


def conversation_table(messages: pd.DataFrame, conversations: pd.DataFrame,
                       problems: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per conversation with what a researcher sorts and filters by.

    Returns
    -------
    DataFrame
        ``TABLE_COLUMNS``: ``models`` (the speakers, joined by " ↔ "), ``n_messages`` and
        ``n_words`` (seed included), ``end_state`` and ``end_state_by`` (the speaker or speakers
        it applies to; see :func:`q7x2_lib.end_states`), ``loop_onset`` and ``loop_period`` of the
        loop the conversation ends in (Int64, missing without one), ``collapse_turn`` (Int64),
        ``problems`` (rows of ``Corpus.problems`` about its file), then ``format``, ``started``,
        ``ending`` as in the file. A conversation with no generated message has no end state.
    """
    base = conversation_list(conversations, messages)
    base["models"] = pd.array(
        [" ↔ ".join(str(p) for p in parts) if parts is not None and len(parts)
         else (str(title) if pd.notna(title) else "")
         for parts, title in zip(conversations["participants"], conversations["title"],
                                 strict=True)], dtype="string")
    generated = messages[~messages["is_seed"].to_numpy(dtype=bool)]
    if len(generated):
        reps = near_repeats(messages)
        found = loops(messages, repeats=reps)
        states = end_states(messages, loops_table=found)
        collapse = collapse_turn(messages)
        looped = found[found["has_loop"].to_numpy(dtype=bool)]
        base = (base
                .merge(states[["conversation_id", "end_state", "speakers"]]
                       .rename(columns={"speakers": "end_state_by"}), on="conversation_id",
                       how="left")
                .merge(looped[["conversation_id", "onset_turn", "period"]]
                       .rename(columns={"onset_turn": "loop_onset", "period": "loop_period"}),
                       on="conversation_id", how="left")
                .merge(collapse[["conversation_id", "collapse_turn"]], on="conversation_id",
                       how="left"))
    for col in ("end_state", "end_state_by"):
        base[col] = (base[col].astype("string") if col in base
                     else pd.Series(pd.NA, index=base.index, dtype="string"))
    for col in ("loop_onset", "loop_period", "collapse_turn"):
        base[col] = (base[col] if col in base else pd.Series(pd.NA, index=base.index)
                     ).astype("Int64")
    base["problems"] = _problem_counts(conversations, problems)
    return base[list(TABLE_COLUMNS)]


def _problem_counts(conversations: pd.DataFrame, problems: pd.DataFrame | None) -> np.ndarray:
    """Rows of ``problems`` about each conversation's file, and about its twin if it has one."""
    if problems is None or problems.empty:
        return np.zeros(len(conversations), dtype="int64")
    per_file = problems["source"].astype(str).value_counts()
    source = conversations["source"].astype(str)
    twin = conversations["twin"].astype("string")
    own = source.map(per_file).fillna(0)
    other = twin.map(per_file).fillna(0).where(twin.notna() & (twin != source), 0)
    return (own + other).astype("int64").to_numpy()


# --- the interactive table ---------------------------------------------------------------------


class Explorer:
    """A corpus's conversation table that opens the conversation you select.

    In JupyterLab: a sortable, searchable ITable widget (search box, column sorting, paging),
    one row selectable; the selected conversation shows below it as the chat view
    (``Corpus.conversation``). Elsewhere (nbval, HTML reports, a kernel without widgets) it
    displays as the plain table.

    Attributes
    ----------
    table
        :func:`conversation_table` of the corpus.
    selected
        The id of the conversation shown, or ``None``.
    """

    def __init__(self, corpus, *, table: pd.DataFrame | None = None, page_length: int = 10,
                 **view_options) -> None:
        self.corpus = corpus
        self.table = corpus.list_conversations() if table is None else table
        self.page_length = page_length
        self.view_options = view_options
        self.selected: str | None = None
        self._widget = None

    def open(self, conversation_id: str | int):
        """Show one conversation below the table (what selecting its row does)."""
        view = self.corpus.conversation(conversation_id, **self.view_options)
        self.selected = view.conversation_id
        if self._widget is not None:
            from IPython.display import display

            out = self._widget.children[1]
            out.clear_output(wait=True)
            with out:
                display(view)
        return view

    def widget(self):
        """The ipywidgets VBox: the ITable widget above an Output that holds the chat view."""
        if self._widget is None:
            import ipywidgets
            from itables.widget import ITable

            shown = self.table.copy()
            shown["started"] = shown["started"].astype("string")
            lengths = sorted({self.page_length, 10, 25, 50, 100})
            grid = ITable(shown, select={"style": "single"}, pageLength=self.page_length,
                          lengthMenu=lengths,
                          showIndex=False, classes="display compact", maxBytes=0,
                          allow_html=False)
            out = ipywidgets.Output()
            self._widget = ipywidgets.VBox([grid, out])
            ids = self.table["conversation_id"].astype(str).tolist()

            def on_select(change) -> None:
                rows = change["new"] or []
                if rows:
                    self.open(ids[rows[0]])

            grid.observe(on_select, names="selected_rows")
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": f"<Explorer: {len(self.table)} conversations>",
                  "text/html": self._repr_html_()}
        try:
            view = self.widget()._repr_mimebundle_(include=include, exclude=exclude)
        except ImportError:  # no widgets: the plain table is what there is
            return bundle
        return {**bundle, **(view or {})}

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, escape=True, na_rep="",
                                  classes="q7x2-explorer-table", border=0)


# --- search ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResults:
    """Messages matching a pattern: ``table`` and a highlighted HTML view in JupyterLab.

    ``table`` has one row per match: ``conversation_id``, ``turn``, ``speaker``, ``start`` and
    ``end`` (character offsets of the match in the message's text), ``match``, ``before`` and
    ``after`` (up to ``context`` characters either side).
    """

    table: pd.DataFrame
    pattern: str
    truncated: bool = False
    shown: int = 200
    n_messages: int = field(default=0)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (f"<SearchResults {self.pattern!r}: {len(self.table)} matches in "
                f"{self.n_messages} messages>")

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr class="q7x2-hit"><td><code>{html.escape(str(r.conversation_id))}</code></td>'
            f"<td>{int(r.turn)}</td><td>{html.escape(str(r.speaker))}</td>"
            f'<td style="text-align:left;white-space:pre-wrap">…{html.escape(r.before)}'
            f"<mark>{html.escape(r.match)}</mark>{html.escape(r.after)}…</td></tr>"
            for r in self.table.head(self.shown).itertuples(index=False))
        more = (f"<p style='color:{_MUTED}'>showing {self.shown} of {len(self.table):,} matches; "
                "all of them are in <code>.table</code></p>" if len(self.table) > self.shown
                else "")
        cut = ("<p><strong>stopped at the match limit</strong> (<code>max_hits</code>)</p>"
               if self.truncated else "")
        return (f'<div class="q7x2-search"><p>{len(self.table):,} matches of '
                f"<code>{html.escape(self.pattern)}</code> in {self.n_messages:,} messages</p>"
                f"{cut}<table><thead><tr><th>conversation</th><th>turn</th><th>speaker</th>"
                f"<th>context</th></tr></thead><tbody>{rows}</tbody></table>{more}</div>")


def search(messages: pd.DataFrame, pattern: str, *, regex: bool = False, case: bool = False,
           context: int = 60, max_hits: int = 100_000, include_seed: bool = True
           ) -> SearchResults:
    """Every match of ``pattern`` in the messages' texts, with its context.

    Parameters
    ----------
    pattern
        Plain text (the default) or, with ``regex=True``, an RE2 regular expression (Python's
        syntax without backreferences and lookaround). RE2 runs in time linear in the text for
        every pattern: a hostile pattern cannot hang the kernel.
    case
        Match case exactly (default: ignore case).
    context
        Characters shown either side of a match.
    max_hits
        Stop after this many matches (``SearchResults.truncated`` says so).
    include_seed
        Search the orchestrator's seed messages too.

    Raises
    ------
    ValueError
        An empty pattern, a regular expression RE2 cannot compile (the message says why), or a
        bad ``context`` / ``max_hits``.
    """
    import re2

    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern: got {pattern!r}; expected a non-empty string")
    for name, value in (("context", context), ("max_hits", max_hits)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "max_hits"):
            raise ValueError(f"{name}: got {value!r}; expected a whole number "
                             f"{'of at least 1' if name == 'max_hits' else '>= 0'}")
    options = re2.Options()
    options.case_sensitive = bool(case)
    options.literal = not regex
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"pattern: {pattern!r} is not a regular expression RE2 accepts ({why}); "
                         "RE2 has no backreferences or lookaround. Pass regex=False to search "
                         "for the text as written") from None
    m = messages if include_seed else messages[~messages["is_seed"].to_numpy(dtype=bool)]
    cols: dict[str, list] = {k: [] for k in ("conversation_id", "turn", "speaker", "start",
                                             "end", "match", "before", "after")}
    truncated = False
    for cid, turn, speaker, text in zip(m["conversation_id"], m["turn"], m["speaker"],
                                        m["text"], strict=True):
        if not isinstance(text, str) or not text:
            continue
        for hit in compiled.finditer(text):
            if hit.end() == hit.start():
                continue  # an empty match (e.g. "a*") marks a place, not text
            if len(cols["turn"]) >= max_hits:
                truncated = True
                break
            a, b = hit.start(), hit.end()
            for k, v in (("conversation_id", cid), ("turn", int(turn)), ("speaker", speaker),
                         ("start", a), ("end", b), ("match", text[a:b]),
                         ("before", text[max(0, a - context):a]), ("after", text[b:b + context])):
                cols[k].append(v)
        if truncated:
            break
    table = pd.DataFrame(cols).astype({"turn": "int64", "start": "int64", "end": "int64"})
    return SearchResults(table, pattern, truncated, n_messages=len(m))


# --- two conversations side by side --------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Two conversations aligned by turn: ``table`` (one row per turn) and, in JupyterLab, the
    lengths and states side by side, with the texts of both at ``turn``."""

    table: pd.DataFrame
    ids: tuple[str, str]
    texts: tuple[pd.Series | None, pd.Series | None]
    turn: int | None
    fold_words: int = 300

    def __repr__(self) -> str:
        return f"<Comparison {self.ids[0]} | {self.ids[1]}: {len(self.table)} turns>"

    def _repr_html_(self) -> str:
        longest = max(int(self.table[["a_words", "b_words"]].max().max() or 0), 1)
        rows = "".join(self._row(r, longest) for r in self.table.itertuples(index=False))
        texts = ""
        if self.turn is not None:
            cells = "".join(
                '<td style="vertical-align:top;text-align:left;width:50%">'
                + (f"<strong>{html.escape(str(t['speaker']))}</strong>"
                   f"{_body_html(str(t['text']), int(t['n_words']), self.fold_words)}"
                   if t is not None else f"<em style='color:{_MUTED}'>(no message at this "
                   "turn)</em>") + "</td>" for t in self.texts)
            texts = (f"<p><strong>Turn {self.turn}</strong></p><table style='width:100%'>"
                     f"<tr>{cells}</tr></table>")
        a, b = (html.escape(i) for i in self.ids)
        return (f'<div class="q7x2-compare"><table><thead><tr><th>turn</th>'
                f"<th><code>{a}</code></th><th>words</th><th><code>{b}</code></th>"
                f"<th>words</th></tr></thead><tbody>{rows}</tbody></table>{texts}</div>")

    def _row(self, r, longest: int) -> str:
        mark = ' style="outline:2px solid #0072B2"' if r.turn == self.turn else ""

        def side(speaker, words, state) -> str:
            if pd.isna(words):
                return "<td></td><td></td>"
            bar = (f'<span style="display:inline-block;height:.5em;width:'
                   f'{6 * int(words) / longest:.2f}em;background:#0072B2"></span>')
            return (f"<td>{html.escape(str(speaker))} <span style='color:{_MUTED}'>"
                    f"{html.escape(str(state))}</span></td><td>{bar} {int(words)}</td>")

        return (f"<tr{mark}><td>{r.turn}</td>{side(r.a_speaker, r.a_words, r.a_state)}"
                f"{side(r.b_speaker, r.b_words, r.b_state)}</tr>")


def compare(corpus, id_a: str | int, id_b: str | int, *, turn: int | None = None,
            fold_words: int = 300) -> Comparison:
    """Two conversations of ``corpus`` aligned by turn.

    ``table`` columns: ``turn``, then for each side (``a_``, ``b_``) ``speaker``, ``words`` and
    ``state`` (``seed``, ``empty``, ``end marker``, ``repeat`` of a recent message, ``loop``
    inside the loop it ends in, or ``""``); a side is missing past its last turn. With ``turn``,
    the view also shows the text of both conversations at that turn.
    """
    views = [conversation_view(corpus.messages, corpus.conversations, cid) for cid in
             (id_a, id_b)]
    sides = []
    for prefix, view in zip(("a_", "b_"), views, strict=True):
        m = view.messages
        marks = view.marks
        state = pd.Series("", index=m.index, dtype=object)
        if marks is not None and len(marks):
            merged = m[["turn"]].merge(marks, on="turn", how="left")
            state[merged["is_repeat"].fillna(False).to_numpy(dtype=bool)] = "repeat"
            state[merged["in_loop"].fillna(False).to_numpy(dtype=bool)] = "loop"
        state[m["is_end_marker"].to_numpy(dtype=bool)] = "end marker"
        state[m["is_empty"].to_numpy(dtype=bool)] = "empty"
        state[m["is_seed"].to_numpy(dtype=bool)] = "seed"
        sides.append(pd.DataFrame({"turn": m["turn"].astype(int), f"{prefix}speaker": m["speaker"],
                                   f"{prefix}words": m["n_words"].astype("Int64"),
                                   f"{prefix}state": state}))
    table = sides[0].merge(sides[1], on="turn", how="outer").sort_values("turn")
    table = table.reset_index(drop=True)
    texts: list[pd.Series | None] = []
    for view in views:
        row = view.messages[view.messages["turn"] == turn] if turn is not None else []
        texts.append(row.iloc[0] if len(row) else None)
    if turn is not None and all(t is None for t in texts):
        raise ValueError(f"turn: got {turn!r}; neither conversation has that turn")
    return Comparison(table, (views[0].conversation_id, views[1].conversation_id),
                      (texts[0], texts[1]), turn, fold_words)
