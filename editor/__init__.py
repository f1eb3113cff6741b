"""The photo-restoration editor (PySide6). Start it with `python -m editor [FILES...]`.

It reaches the engine only through `engine.api`. The document model (`editor.doc`) and the
canvas (`editor.canvas`) are packages of their own; `editor.main_window` puts them together
with the panels, the undo history and the background tasks.
"""
