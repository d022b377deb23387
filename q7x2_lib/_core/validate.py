"""One check per kind of argument, one wording, and the selector of the messages a metric sees.

Every error names the parameter (and, for tables, the function), says what came and what was
expected: ``"n_boot: got 0; expected an integer >= 1"``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Sequence
from contextvars import ContextVar
from typing import TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "SEEN_COLUMNS",
    "check_at_least",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_positive_int",
    "check_share",
    "messages_metric",
    "messages_seen",
    "positions",
    "require_columns",
]

#: The columns every metric may rely on in the messages it sees.
SEEN_COLUMNS = ("conversation_id", "turn", "speaker", "is_seed")
_MESSAGES_HINT = ("a messages table (the .messages of q7x2_lib.read_corpus(...), or "
                  "make_messages(...))")


F = TypeVar("F", bound=Callable)
#: The public metric the user called: metrics call one another, and an error about the table
#: should name the one the user typed, not the helper that noticed.
_CALLED: ContextVar[str | None] = ContextVar("q7x2_called_metric", default=None)


def messages_metric(func: F) -> F:
    """Mark a public metric of a messages table: errors about the table name this function.

    A metric with bootstrap intervals (an ``n_boot`` and a ``ci`` parameter) also takes
    ``ci=False``: point estimates only, as ``n_boot=0`` gives them (intervals NaN, nothing
    resampled).
    """
    params = inspect.signature(func).parameters
    point_estimates = "n_boot" in params and "ci" in params

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if point_estimates and kwargs.get("ci") is False:
            kwargs = {**kwargs, "ci": 0.95, "n_boot": 0}
        token = _CALLED.set(_CALLED.get() or func.__name__)
        try:
            return func(*args, **kwargs)
        finally:
            _CALLED.reset(token)
    return wrapper  # type: ignore[return-value]


def require_columns(table: object, columns: Sequence[str], *, func: str, name: str = "messages",
                    hint: str = _MESSAGES_HINT) -> None:
    """Raise a ValueError naming ``func``, the parameter and the columns ``table`` lacks.

    Inside a call of a :func:`messages_metric`, the function named is that metric.
    """
    func = _CALLED.get() or func
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{func}(): {name}: got {type(table).__name__}; expected {hint}")
    missing = [c for c in dict.fromkeys(columns) if c not in table.columns]
    if missing:
        raise ValueError(f"{func}(): {name} lacks the column(s) {missing}; expected {hint}")


def messages_seen(messages: pd.DataFrame, *, func: str, include_seed: bool = False,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The messages a metric sees: checked, seeds dropped unless asked, in conversation and turn
    order, with a fresh RangeIndex.

    ``columns`` (beyond ``SEEN_COLUMNS``) are required, and when given only they are kept, so
    filtering does not copy message texts that nobody reads; ``None`` keeps every column.
    """
    need = (*SEEN_COLUMNS, *(columns or ()))
    require_columns(messages, need, func=func)
    m = messages if columns is None else messages[list(dict.fromkeys(need))]
    if not include_seed:
        m = m[~m["is_seed"].to_numpy(dtype=bool)]
    return m.sort_values(["conversation_id", "turn"], kind="stable").reset_index(drop=True)


def positions(m: pd.DataFrame) -> np.ndarray:
    """0-based position of each message within its conversation, in the order given."""
    return m.groupby("conversation_id", sort=False).cumcount().to_numpy()


def _is_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def check_int(name: str, value: object, minimum: int) -> None:
    """An integer of at least ``minimum``."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; expected an integer >= {minimum}")


def check_positive_int(name: str, value: object) -> None:
    """An integer of at least 1."""
    check_int(name, value, 1)


def check_at_least(name: str, value: object, minimum: float) -> None:
    """A real number of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not value >= minimum:
        raise ValueError(f"{name}: got {value!r}; expected a number >= {minimum}")


def check_share(name: str, value: object) -> None:
    """A number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
            or not 0 < value <= 1:
        raise ValueError(f"{name}: got {value!r}; expected a number in (0, 1]")


def check_fraction(name: str, value: object, *, example: str = "0.95") -> None:
    """A number strictly between 0 and 1 (a coverage, a quantile)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
            or not 0 < value < 1:
        raise ValueError(f"{name}: got {value!r}; expected a number between 0 and 1, "
                         f"e.g. {example}")


def check_choice(name: str, value: object, choices: Collection[object]) -> None:
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: got {value!r}; expected one of "
                         f"{', '.join(map(repr, choices))}")

