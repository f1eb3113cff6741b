"""Damage detection on the real old scans, to look at: are cracks marked and faces left alone?

    .venv/bin/python -m benchmarks.contact_detect [--weights FILE] [--sensitivity S]
        [--out docs/detect_contact_sheet.jpg]

One row per sample scan (../shared/data/samples/old_photos): the whole scan, then the learned
detector's proposed mask in red, the classical (morphological) detector's beside it, and the
scan after detect + inpaint (the learned mask grown by 2 px, as Auto-detect then Inpaint does
in the editor). Under it, every face at 1:1 enlarged 2× with nearest-neighbour: before with
the learned mask in red, the classical mask, and after inpainting — an eye, lip, nostril or
eyebrow marked shows here. Faces are boxes placed by hand (`FACES`, in scan pixels): OpenCV's
face cascades are not in the headless wheel, and a hand-placed box cannot miss a face.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.contact_sheet import GAP, PHOTOS, ROOT, label, with_mask
from engine import api

ROW = 300  # px, height of a whole-scan thumbnail
FACE = 128  # px, side of a 1:1 face crop (shown at 2x)
GROW = 2  # px the mask grows before inpainting (the editor's Inpaint does the same)
# Centre (x, y) of each face in scan pixels, placed by looking at the scans.
FACES: dict[str, list[tuple[int, int]]] = {
    "a.png": [(150, 195)],
    "b.png": [(345, 290)],
    "c.png": [(245, 395)],
    "e.png": [(195, 320)],  # in the hat's shadow
    "g.png": [(275, 285)],
    "h.png": [(230, 215)],
}


def _thumb(image: np.ndarray) -> np.ndarray:
    scale = ROW / image.shape[0]
    size = (round(image.shape[1] * scale), ROW)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _crop(image: np.ndarray, centre: tuple[int, int]) -> np.ndarray:
    h, w = image.shape[:2]
    x = min(max(centre[0] - FACE // 2, 0), max(w - FACE, 0))
    y = min(max(centre[1] - FACE // 2, 0), max(h - FACE, 0))
    crop = image[y : y + FACE, x : x + FACE]
    return cv2.resize(crop, (2 * FACE, 2 * FACE), interpolation=cv2.INTER_NEAREST)


def _hstack(parts: list[np.ndarray], height: int) -> np.ndarray:
    pad = np.full((height, GAP, 3), 255, np.uint8)
    out: list[np.ndarray] = []
    for part in parts:
        if part.shape[0] < height:
            part = np.vstack(
                [part, np.full((height - part.shape[0], *part.shape[1:]), 255, np.uint8)]
            )
        out += [part, pad]
    return np.hstack(out[:-1])


def rows_for(name: str, pixels: np.ndarray, options: api.RunOptions, sensitivity: float):
    learned = api.detect_damage(pixels, sensitivity=sensitivity, options=options)
    classical = api.detect_scratches(pixels, sensitivity=sensitivity)
    grown = cv2.dilate(learned.astype(np.uint8), np.ones((2 * GROW + 1,) * 2, np.uint8)) > 0
    after = (
        api.inpaint(pixels, grown, options=api.RunOptions(device="cpu")) if grown.any() else pixels
    )
    whole = [
        label(_thumb(pixels), f"{name} scan"),
        label(_thumb(with_mask(pixels, learned)), f"learned {learned.mean():.2%}"),
        label(_thumb(with_mask(pixels, classical)), f"classical {classical.mean():.2%}"),
        label(_thumb(after), "detect + inpaint"),
    ]
    rows = [_hstack(whole, ROW)]
    for centre in FACES.get(name, []):
        faces = [
            label(_crop(with_mask(pixels, learned), centre), "face 1:1, learned"),
            label(_crop(with_mask(pixels, classical), centre), "classical"),
            label(_crop(after, centre), "after"),
        ]
        rows.append(_hstack(faces, 2 * FACE))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--weights", type=Path, help="a detector weight file (else the shipped)")
    parser.add_argument("--sensitivity", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "detect_contact_sheet.jpg")
    args = parser.parse_args(argv)
    options = api.RunOptions(device="cpu", weights=args.weights)
    rows: list[np.ndarray] = []
    for path in sorted(args.photos.glob("*.png")):
        rows += rows_for(path.name, api.read_image(path).pixels, options, args.sensitivity)
    width = max(row.shape[1] for row in rows)
    padded = [
        np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows
    ]
    sheet = np.vstack(padded)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
