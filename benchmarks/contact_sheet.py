"""Before/after contact sheet of a restoration on real old scans, to look at.

    .venv/bin/python -m benchmarks.contact_sheet {denoise,inpaint,colorize} [--photos DIR]
        [--out FILE.jpg] [--weights FILE] [--strength S ...] [--polyu N]

`denoise` is drawn by `benchmarks/contact_denoise.py` (see there: PolyU real noisy photos too,
several strengths, |difference| panels); `--strength` and `--polyu` are for it only.
For inpaint and colorize, one row per photo: the whole scan before and after (scaled to the
row height), then a 1:1 crop of the busiest detail before and after, enlarged 2× with
nearest-neighbour so grain, smearing ("plastic" skin), colour shifts and tile seams can be
judged pixel by pixel.
For inpaint, the mask is the editor's scratch detection (shown in red in an extra crop)
and the crop is where that mask is densest, so hole edges and fills can be judged.
For colorize, the sample scans (faded colour prints) are first reduced to their lightness, as
a black-and-white scan of them would be; "before" is that grey image, and the print's own
colours are shown last, as a reference the model never saw.
The restoration goes through the engine's public API exactly as the editor calls it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks import contact_denoise
from benchmarks.quality_colorize import greyscale
from engine import api

ROOT = Path(__file__).resolve().parent.parent

PHOTOS = ROOT.parent / "shared" / "data" / "samples" / "old_photos"
ROW = 360  # px, height of a whole-scan thumbnail
CROP = 160  # px, side of the 1:1 detail crop (shown at 2x)
GAP = 8


def restore(
    task: str, pixels: np.ndarray, options: api.RunOptions
) -> tuple[np.ndarray, np.ndarray | None]:
    """(restored, mask of the holes or None), through the engine's public API."""
    if task == "inpaint":
        mask = api.detect_scratches(pixels)
        return api.inpaint(pixels, mask, options=options), mask
    if task == "colorize":
        return api.colorize(pixels, options=options), None
    raise SystemExit(f"unknown task {task!r}")


def busiest_crop(pixels: np.ndarray, mask: np.ndarray | None = None) -> tuple[int, int]:
    """Top-left corner of the CROP×CROP window with the most fine detail (edges + grain),
    or with the most hole pixels when a mask is given."""
    if mask is not None and mask.any():
        energy = mask.astype(np.float32)
    else:
        grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
        energy = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    score = cv2.boxFilter(energy, -1, (CROP, CROP), normalize=True)
    half = CROP // 2
    inner = score[half : score.shape[0] - half, half : score.shape[1] - half]
    y, x = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return int(y), int(x)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = np.ascontiguousarray(tile)
    cv2.rectangle(tile, (0, 0), (8 + 9 * len(text), 22), (0, 0, 0), -1)
    cv2.putText(tile, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return tile


def with_mask(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shown = image.copy()
    shown[mask] = (255, 0, 0)
    return shown


def row_for(
    name: str,
    before: np.ndarray,
    after: np.ndarray,
    mask: np.ndarray | None = None,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    scale = ROW / before.shape[0]
    size = (round(before.shape[1] * scale), ROW)
    whole = (before, after) if reference is None else (before, after, reference)
    thumbs = [cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in whole]
    y, x = busiest_crop(before, mask)
    shown = (before, after) if mask is None else (before, with_mask(before, mask), after)
    if reference is not None:
        shown += (reference,)
    crops = [
        cv2.resize(
            im[y : y + CROP, x : x + CROP], (2 * CROP, 2 * CROP), interpolation=cv2.INTER_NEAREST
        )  # fmt: skip
        for im in shown
    ]
    for thumb in thumbs:  # where the crop comes from
        top_left = (round(x * scale), round(y * scale))
        bottom_right = (round((x + CROP) * scale), round((y + CROP) * scale))
        cv2.rectangle(thumb, top_left, bottom_right, (255, 64, 64), 1)
    pad = np.full((ROW, GAP, 3), 255, np.uint8)
    crop_pad = np.full((ROW - 2 * CROP, 2 * CROP, 3), 255, np.uint8)
    titles = ["before 1:1 (2x)", "after 1:1 (2x)"]
    if mask is not None:
        titles.insert(1, f"mask ({mask.mean():.2%} of the scan)")
    parts = [label(thumbs[0], f"{name} before"), label(thumbs[1], "after")]
    if reference is not None:
        titles.append("original colours 1:1 (2x)")
        parts.append(label(thumbs[2], "original colours"))
    parts += [label(np.vstack([c, crop_pad]), t) for c, t in zip(crops, titles, strict=True)]
    out = []
    for part in parts:
        out += [part, pad]
    return np.hstack(out[:-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["denoise", "inpaint", "colorize"])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--weights", type=Path, help="a weight file instead of the shipped one")
    contact_denoise.add_arguments(parser)
    args = parser.parse_args()
    if args.task == "denoise":
        return contact_denoise.run(args)
    options = api.RunOptions(device="cpu", weights=args.weights)
    rows = []
    for path in sorted(p for p in args.photos.iterdir() if api.is_supported_image_path(p)):
        before = api.read_image(path).pixels
        if before.dtype != np.uint8:
            before = (before // 257).astype(np.uint8)
        reference = None
        if args.task == "colorize":
            before, reference = greyscale(before), before
        after, mask = restore(args.task, before, options)
        rows.append(row_for(path.stem, before, after, mask, reference))
        print(f"{path.name}: done", flush=True)
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack(
        [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    )
    out = args.out or ROOT / "docs" / f"{args.task}_contact_sheet.jpg"
    api.write_image(out, sheet, quality=90)
    print(f"wrote {out} ({sheet.shape[1]}×{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
