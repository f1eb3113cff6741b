"""The colorize preview: the photo colorized with its pins on a small copy (≤ 1 MP), on a
worker thread of its own, so the window never waits for it.

The latest request wins: one made while a preview runs cancels it (the engine stops
between its steps) and runs once it has ended; requests made meanwhile replace each other,
so a burst of edits costs one stale run at most. It is not a job of the `JobRunner`: nobody
asked to wait for a preview, so it never makes the editor busy, shows no progress and
refuses nothing. The small copy of the composite is kept between runs (making it from a
24 MP stack takes seconds) until `invalidate` says the layers changed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from editor.doc import Document
from editor.hint_support import colorizer_takes_hints
from editor.worker import ProgressCallback, WorkerThread
from engine import api

PREVIEW_PIXELS = 1_000_000


def small_copy(image: np.ndarray, limit: int = PREVIEW_PIXELS) -> np.ndarray:
    """`image` as 8-bit RGB of at most `limit` pixels (area-averaged: no aliasing)."""
    height, width = image.shape[:2]
    factor = min(1.0, math.sqrt(limit / (height * width)))
    if factor < 1.0:
        size = (max(1, math.floor(width * factor)), max(1, math.floor(height * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(api.convert_depth(image, np.uint8))


def scaled_hints(
    hints: tuple[api.ColourHint, ...], size: tuple[int, int], small: tuple[int, int]
) -> tuple[api.ColourHint, ...]:
    """`hints` of a `size` (w, h) photo moved to its `small` (w, h) copy, each kept on it."""
    sx, sy = small[0] / size[0], small[1] / size[1]
    return tuple(
        api.ColourHint(
            min(h.x * sx, math.nextafter(small[0], 0.0)),
            min(h.y * sy, math.nextafter(small[1], 0.0)),
            h.rgb,
        )
        for h in hints
    )


@dataclass(frozen=True)
class PreviewRequest:
    document: Document
    hints: tuple[api.ColourHint, ...]
    strength: float
    options: api.RunOptions


@dataclass(frozen=True)
class PreviewResult:
    request: PreviewRequest
    rgb: np.ndarray | None  # the small copy colorized (h×w×3 uint8); None: hints refused
    seconds: float  # the colorize run alone (the small copy is usually made already)
    takes_hints: bool | None


class PreviewRunner(QObject):
    ready = Signal(object)  # PreviewResult, in the GUI thread
    failed = Signal(object, object)  # (PreviewRequest, the exception)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: WorkerThread | None = None
        self._running: PreviewRequest | None = None
        self._pending: PreviewRequest | None = None
        # (document, generation, 8-bit small copy of its composite): written by the worker
        # as soon as it is made (one assignment: atomic), so a run cancelled after making
        # it still spares the next one that work.
        self._small: tuple[Document, int, np.ndarray] | None = None
        self._generation = 0  # counts `invalidate` calls: an older small copy is stale

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def invalidate(self) -> None:
        """The composite changed: the next run makes its small copy afresh."""
        self._small = None
        self._generation += 1

    def request(self, request: PreviewRequest) -> None:
        """Colorize `request` now, or as soon as the (now cancelled) running preview ends."""
        if self._worker is not None:
            self._pending = request
            self._worker.cancel()
            return
        self._launch(request)

    def cancel(self) -> None:
        """Forget the pending request and stop the running one (its result is dropped)."""
        self._pending = None
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self) -> None:
        """Stop and wait (the window is closing): no thread may outlive it."""
        self._pending = None
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            worker.join()

    def _small_copy(self, document: Document) -> np.ndarray | None:
        held = self._small
        if held is None or held[0] is not document or held[1] != self._generation:
            return None
        return held[2]

    def _launch(self, request: PreviewRequest) -> None:
        document, generation = request.document, self._generation
        size = (document.width, document.height)
        small = self._small_copy(document)
        # The snapshot (cheap: layers are shared) is taken here, in the GUI thread; the
        # composite, which is not cheap, is made on the worker.
        snapshot = document.snapshot() if small is None else None

        def work(_progress: ProgressCallback, cancel: api.CancelToken) -> PreviewResult:
            pixels = small
            if pixels is None:
                assert snapshot is not None
                pixels = small_copy(snapshot.composite())
                self._small = (document, generation, pixels)
            return _colorize(request, size, pixels, cancel)

        worker = WorkerThread("Colorize preview", work)
        worker.ended.connect(lambda: self._ended(worker))
        self._worker, self._running = worker, request
        worker.start_work()

    def _ended(self, worker: WorkerThread) -> None:
        if worker is not self._worker:
            return  # dropped by shutdown
        request, self._worker, self._running = self._running, None, None
        pending, self._pending = self._pending, None
        outcome = worker.outcome
        if pending is not None:
            self._launch(pending)  # what ran is stale, whatever became of it
        elif outcome.error is not None:
            self.failed.emit(request, outcome.error)
        elif isinstance(outcome.result, PreviewResult):
            self.ready.emit(outcome.result)


def _colorize(
    request: PreviewRequest, size: tuple[int, int], small: np.ndarray, cancel: api.CancelToken
) -> PreviewResult:
    """The small copy colorized with the pins (on the worker thread)."""
    takes_hints = colorizer_takes_hints(request.options)
    if request.hints and takes_hints is False:
        return PreviewResult(request, None, 0.0, takes_hints)  # expected: not an error
    cancel.raise_if_cancelled()
    hints = scaled_hints(request.hints, size, (small.shape[1], small.shape[0]))
    start = time.perf_counter()
    rgb = api.colorize(
        small, strength=request.strength, hints=hints, options=request.options, cancel=cancel
    )
    return PreviewResult(request, rgb, time.perf_counter() - start, takes_hints)
