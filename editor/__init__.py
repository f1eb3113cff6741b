"""The photo-restoration editor (PySide6). Start it with `python -m editor [IMAGE]`.

It reaches the engine only through `engine.api`; the document model (`editor.document`)
has no Qt in it.
"""
