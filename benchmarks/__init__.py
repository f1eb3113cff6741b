"""Quality and speed benchmarks of what resources/ ships, beside classical peers.

A package: run each from the repository root as ``python -m benchmarks.NAME`` (quality,
speed, speed_inpaint, speed_colorize, editor_speed, contact_sheet); tests import its modules
as ``benchmarks.NAME``.
"""
