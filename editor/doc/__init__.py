"""The layered document model of the editor, with no Qt and no torch in it.

- `Document`: the locked original, result layers, one inpainting mask; every operation
  returns what undoes it, observers get `Change` notices.
- `BrushStroke`, `stamp_segment`, `StrokeRecorder`: painting the mask.
- `Pin`: a colour hint pinned on the photo (the document's `pins`).
- `save_ora` / `load_ora`: OpenRaster files; `recovery`: crash-recovery copies.

Importing this package loads numpy, OpenCV and `engine.api` (for the pixel policies the
application shares, e.g. bit-depth conversion), never Qt nor torch: `engine.api` loads torch
only when the first restoration runs.
"""

from editor.doc.brush import BrushStroke, StrokeRecorder, stamp_segment
from editor.doc.document import Document
from editor.doc.hints import Pin
from editor.doc.layers import DocumentSnapshot, FlattenUndo, Layer, MergeUndo
from editor.doc.mask import MaskEdit, MaskSnapshot
from editor.doc.ora import load_ora, save_ora
from editor.doc.ora_codec import engine_meta_factory
from editor.doc.recovery import discard, find_recoveries, recovery_path, write_recovery
from editor.doc.types import Change, ChangeKind, DocumentError, Region

__all__ = [
    "BrushStroke",
    "Change",
    "ChangeKind",
    "Document",
    "DocumentError",
    "DocumentSnapshot",
    "FlattenUndo",
    "Layer",
    "MaskEdit",
    "MaskSnapshot",
    "MergeUndo",
    "Pin",
    "Region",
    "StrokeRecorder",
    "discard",
    "engine_meta_factory",
    "find_recoveries",
    "load_ora",
    "recovery_path",
    "save_ora",
    "stamp_segment",
    "write_recovery",
]
