"""The editor's canvas: a view of a `CanvasSource` with zoom, pan, mask brush, before/after,
and the Colour Hint tool's pins and colorize preview.

`CanvasView` owns no document state: it reads pixels through the `CanvasSource` protocol,
reports brush strokes as signals, and is told of changes through `update_region`.
"""

from editor.canvas.source import CanvasSource, Region
from editor.canvas.tools import Tool
from editor.canvas.view import CanvasView

__all__ = ["CanvasSource", "CanvasView", "Region", "Tool"]
