"""The dock panels around the canvas. They hold widgets and settings only; every edit they
ask for goes through the window, which makes it undoable."""

from editor.panels.hints import HintsPanel
from editor.panels.layers import LayersPanel
from editor.panels.restore import RestorePanel
from editor.panels.tools import ToolsPanel

__all__ = ["HintsPanel", "LayersPanel", "RestorePanel", "ToolsPanel"]
