"""What counts as a hole of the mask, and what clearing inpainted holes removes.

The brush paints a soft edge: its value falls from 255 to 0 over the outer part of its
radius. A value above `HOLE_THRESHOLD` is a hole, what Inpaint fills; the values from 1 to
the threshold are only the soft edge around it, drawn faintly on the canvas, never filled.
"The mask is empty" therefore means "it has no hole": a soft edge alone gives Inpaint
nothing to fill.

Once inpainted holes are cleared, their soft edge has to go too: otherwise it stays behind as
a faint outline that is neither filled nor empty. Strokes painted while the task ran (they
are not among the inpainted holes) keep theirs.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.doc.types import Region, nonzero_bbox, slices

HOLE_THRESHOLD = 127
"""Mask values above this are holes; 1..HOLE_THRESHOLD is soft edge only."""


def holes_of(mask: np.ndarray) -> np.ndarray:
    """The holes of `mask` (any uint8 array) as booleans."""
    return mask > HOLE_THRESHOLD


def has_holes(mask: np.ndarray) -> bool:
    # max() reads the mask once without a full-size boolean temporary (24 MB at 24 MP).
    return mask.size > 0 and int(mask.max()) > HOLE_THRESHOLD


def inpainted_area(mask: np.ndarray, holes: np.ndarray) -> tuple[Region, np.ndarray] | None:
    """Where clearing the inpainted `holes` (bool, the shape of `mask`) zeroes `mask`.

    Returns ``(region, cleared)``, `cleared` being a bool array of the size of `region`; None
    when no painted pixel of `mask` is among the holes. Cleared are the holes themselves and
    every soft-edge pixel connected to them. A soft edge that also touches a hole that was not
    inpainted (a stroke painted during the run, over or beside the old one) is shared out:
    each of its pixels goes with the nearer hole, a tie with the hole that stays.
    """
    region = nonzero_bbox(mask)
    if region is None:
        return None
    values, inpainted = mask[slices(region)], holes[slices(region)]
    painted = values > 0
    filled = inpainted & painted
    if not filled.any():
        return None
    count, labels = cv2.connectedComponents(painted.view(np.uint8), connectivity=8)
    touched = np.zeros(count, bool)
    touched[labels[filled]] = True  # label 0, the unpainted background, is never filled
    soft = painted & (values <= HOLE_THRESHOLD) & touched[labels]
    staying = holes_of(values) & ~inpainted
    shares_edge = np.zeros(count, bool)
    shares_edge[labels[staying]] = True
    contested = soft & shares_edge[labels]
    if contested.any():
        to_filled = _distance_to(filled)
        to_staying = _distance_to(staying)
        soft &= ~contested | (to_filled < to_staying)
    return region, filled | soft


def _distance_to(area: np.ndarray) -> np.ndarray:
    """Each pixel's Euclidean distance to the nearest True pixel of `area`."""
    return cv2.distanceTransform((~area).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
