"""The engine's own exception hierarchy.

Callers (the CLI, the editor) catch these by type; no caller ever parses a message.
Every message is written for a user: it names the file, the device or the limit at fault.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class Cancelled(EngineError):
    """The caller's cancellation token was set; nothing was returned."""


class OutOfMemory(EngineError):
    """Even the smallest tile did not fit in the device's memory."""


class NotEnoughMemory(OutOfMemory):
    """Refused before starting: the work's estimated memory (decoding an image, a task's
    result and working buffers) is more than is free. `needed` and `available` are bytes;
    `setting` names the run option that needs less when lowered ("tile"), if one does."""

    def __init__(
        self, message: str, *, needed: int = 0, available: int = 0, setting: str | None = None
    ) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available
        self.setting = setting


class UnsupportedImage(EngineError):
    """An image could not be read, decoded, or is of a shape/type the engine cannot process."""


class ImageTooLarge(UnsupportedImage):
    """The image has more pixels than the configured limit (decompression-bomb guard)."""


class ImageWriteError(EngineError):
    """An output file could not be written; no partial file was left behind."""


class ModelUnavailable(EngineError):
    """A weight file is missing, truncated, tampered with, or of an unknown format."""


class DeviceUnavailable(EngineError):
    """An explicitly requested device does not exist on this machine."""


class InvalidRequest(EngineError):
    """The caller's arguments are out of range or inconsistent (e.g. a mask of another size)."""
