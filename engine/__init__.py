"""The restoration engine: models, tiled inference, devices, image I/O. No Qt here.

Applications use `engine.api`; everything else is the engine's own business.
"""
