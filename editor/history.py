"""The undo history: a QUndoStack with a step limit and a memory budget.

QUndoStack can cap the number of steps (`setUndoLimit`, which Qt only accepts while the
stack is empty, so it is fixed here at construction) but knows nothing of bytes, and offers
no way to delete its oldest commands. A restoration step keeps a full-size layer alive
(≈ 144 MB for a 24 MP 16-bit scan), so a count alone cannot bound memory. The budget works
by *expiring* the oldest done steps: an expired command drops its arrays and becomes a no-op
both ways (see `editor.commands.Recorded.expire`).

That is safe because only a prefix of steps that are all done is ever expired: while the
stack's index is inside that prefix, the document simply shows the state after all of
those steps, and every step above the prefix still undoes and redoes exactly. The expired
steps stay listed in the History panel, marked "(no longer undoable)".
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from editor.commands import EXPIRED, Recorded

DEFAULT_STEP_LIMIT = 200
DEFAULT_BUDGET = 1 << 30  # bytes: 1 GiB of undo records


def _recorded(command: QUndoCommand) -> Iterator[Recorded]:
    """`command` itself, or the commands inside a macro (beginMacro/endMacro)."""
    if isinstance(command, Recorded):
        yield command
    for index in range(command.childCount()):
        yield from _recorded(command.child(index))


class History(QUndoStack):
    def __init__(
        self,
        parent: QObject | None = None,
        *,
        budget: int = DEFAULT_BUDGET,
        step_limit: int = DEFAULT_STEP_LIMIT,
    ) -> None:
        super().__init__(parent)
        self.budget = budget
        self.setUndoLimit(step_limit)
        # indexChanged follows every push, undo, redo, and the end of a macro (not each
        # command inside one), which is exactly when the budget may have been exceeded.
        self.indexChanged.connect(self.enforce_budget)

    def cost(self) -> int:
        """The estimated bytes held by every step (done or undone)."""
        return sum(c.cost for i in range(self.count()) for c in _recorded(self.command(i)))

    def enforce_budget(self) -> None:
        total = self.cost()
        step = 0
        while total > self.budget and step < self.index() and step < self.count():
            command = self.command(step)
            for recorded in _recorded(command):
                if not recorded.expired:
                    total -= recorded.cost
                    recorded.expire()
            if not isinstance(command, Recorded) and not command.text().endswith(EXPIRED):
                command.setText(f"{command.text()}{EXPIRED}")  # a macro's own title
            if 0 <= self.cleanIndex() <= step:
                # Undoing to the saved index would no longer give the saved state: from now
                # on the stack is never "clean" (the document stays modified until saved).
                self.resetClean()
            step += 1
