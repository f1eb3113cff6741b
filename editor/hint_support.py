"""Does the installed colorizer take colour hints? Asked once per models folder.

Only a hint-conditioned colorizer (arch ``colorize_hint``) uses the pins; the engine
refuses hints for any other (`engine.api.InvalidRequest`). The editor asks beforehand, so
Colorize and the preview can say so in one line instead of starting a run that fails, and
the Colour Hints panel can say it while the user places pins (they are kept either way).

`engine.api.installed_models` reads every weight file (and imports torch the first time):
`colorizer_takes_hints` is for worker threads, `known_takes_hints` for the GUI thread (the
answer only once a worker has asked). Plain Python: no Qt.
"""

from __future__ import annotations

import threading
from pathlib import Path

from engine import api

HINT_ARCH = "colorize_hint"
NO_HINTS = (
    "This colorizer does not take colour hints (the pins are kept): remove them to colorize "
    "automatically, or install a hint-conditioned colorizer."
)

_answers: dict[Path | None, bool | None] = {}
_lock = threading.Lock()


def _key(options: api.RunOptions) -> Path | None | bool:
    """What the answer depends on; False: nothing known beforehand (an explicit weight
    file, which only the engine reads)."""
    return False if options.weights is not None else options.resources


def colorizer_takes_hints(options: api.RunOptions) -> bool | None:
    """True / False for the colorizer `options` select, from the installed models' list;
    None when that cannot tell (an explicit weight file, no usable colorize model): the
    engine then decides when it runs. Slow the first time: not on the GUI thread."""
    key = _key(options)
    if key is False:
        return None
    with _lock:
        if key in _answers:
            return _answers[key]
    try:
        models = api.installed_models(options.resources)
    except api.EngineError:
        answer = None  # no manifest: running says what is missing
    else:
        found = [m for m in models if m.task == "colorize" and m.variant == "blind"]
        answer = found[0].arch == HINT_ARCH if found and found[0].available else None
    with _lock:
        _answers[key] = answer
    return answer


def known_takes_hints(options: api.RunOptions) -> bool | None:
    """`colorizer_takes_hints` if a worker has asked already, else None (never slow)."""
    key = _key(options)
    with _lock:
        return None if key is False else _answers.get(key)


def forget() -> None:
    """Ask again next time (the models were replaced; tests)."""
    with _lock:
        _answers.clear()
