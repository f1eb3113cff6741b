"""Colour hints on the real old scans, to look at: does a user's click recolour the region?

    .venv/bin/python -m benchmarks.contact_hints --weights FILE [--photos DIR]
        [--out docs/colorize_hints_contact_sheet.jpg]

One row per sample scan (../shared/data/samples/old_photos): the scan reduced to its
lightness (as `contact_sheet.py colorize` does), colorized with no hints, colorized with a
few hints placed by hand (`HINTS`, in scan pixels: a face's skin, a garment, the sky, foliage
— large regions a user would click, chosen by looking at the scans), and the scan's own
colours as the reference the model never saw. Each hint carries the reference's mean colour
over the 5×5 patch at its point (a user who remembers the colours); its point is drawn on
the hinted thumbnail as a circle filled with that colour. Then one detail at 1:1, enlarged
2× with nearest-neighbour, without hints, with hints and in the reference: a face where
there is one (`contact_detect.FACES`), else the busiest crop. Whether a hint recolours the
whole face, dress or sky or only a dot, and whether it bleeds across edges, shows here.
The mean CIEDE2000 (ΔE00) and mean ab distance to the reference, without and with hints,
are printed per scan and written in the labels. `--weights` must be a hint-conditioned
colorizer (arch colorize_hint); a model that takes no hints is refused in one line (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.ciede2000 import mean_delta_e
from benchmarks.contact_detect import FACES
from benchmarks.contact_sheet import CROP, GAP, PHOTOS, ROOT, ROW, busiest_crop, label
from benchmarks.quality_colorize import greyscale
from engine import api
from engine.color import rgb_to_lab

PATCH = 5  # px, side of the reference patch a hint's colour is averaged over
# Hint points (x, y) in scan pixels, placed by looking at each scan.
HINTS: dict[str, list[tuple[int, int]]] = {
    # cheeks, hair, blue-grey backdrop, grey sweater
    "a.png": [(112, 215), (195, 212), (85, 85), (265, 330), (60, 390)],
    # face, blue dress top and skirt, foliage on both sides
    "b.png": [(310, 290), (300, 430), (300, 680), (560, 760), (60, 560)],
    # cheek, green bundle, basket, jacket, blue sleeve band, ground
    "c.png": [(252, 410), (510, 230), (530, 410), (400, 470), (255, 570), (600, 850)],
    # sky twice, red mill drum, tree, street
    "d.png": [(300, 150), (550, 250), (380, 505), (300, 570), (400, 950)],
    # parasol, cream blouse, dark skirt, trees, grass, tree trunk
    "e.png": [(255, 260), (235, 355), (240, 560), (100, 120), (450, 650), (370, 350)],
    # sky, hillside, water, the bus's cream and blue bands, the junk's hull
    "f.png": [(100, 70), (100, 400), (450, 850), (300, 146), (330, 176), (250, 660)],
    # face, teal backdrop, rose wreath, hair, white dress
    "g.png": [(300, 300), (120, 260), (420, 135), (220, 400), (340, 410)],
    # forehead, cheek, ginger beard, dark backdrop, check coat
    "h.png": [(215, 110), (195, 195), (215, 275), (60, 80), (60, 400)],
}


def hint_colour(reference: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    """The reference's mean RGB over the PATCH×PATCH square centred on (x, y), clipped to
    the image, rounded: the colour a user who remembers the scene would pick."""
    half = PATCH // 2
    patch = reference[max(y - half, 0) : y + half + 1, max(x - half, 0) : x + half + 1]
    r, g, b = (int(v) for v in np.round(patch.reshape(-1, 3).mean(axis=0)))
    return r, g, b


def hints_for(name: str, reference: np.ndarray) -> tuple[api.ColourHint, ...]:
    return tuple(api.ColourHint(x, y, hint_colour(reference, x, y)) for x, y in HINTS[name])


def refusal(options: api.RunOptions) -> str | None:
    """Why the model refuses colour hints or cannot load (the engine's message), or None."""
    probe = np.zeros((16, 16, 3), np.uint8)
    try:
        api.colorize(probe, hints=(api.ColourHint(1, 1, (200, 60, 40)),), options=options)
    except (api.InvalidRequest, api.ModelUnavailable) as error:
        return str(error)
    return None


def errors(result: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(mean ΔE00, mean Euclidean ab distance) of `result` to `reference`."""
    ab = [rgb_to_lab(im.astype(np.float32) / 255.0)[..., 1:] for im in (result, reference)]
    return mean_delta_e(result, reference), float(np.linalg.norm(ab[0] - ab[1], axis=2).mean())


def crop_corner(name: str, grey: np.ndarray) -> tuple[int, int]:
    """(y, x) of the CROP×CROP detail: the first hand-placed face, else the busiest."""
    if name not in FACES:
        return busiest_crop(grey)
    (cx, cy), (h, w) = FACES[name][0], grey.shape[:2]
    return min(max(cy - CROP // 2, 0), h - CROP), min(max(cx - CROP // 2, 0), w - CROP)


def draw_hints(thumb: np.ndarray, hints: tuple[api.ColourHint, ...], scale: float) -> None:
    for hint in hints:
        centre = (round(hint.x * scale), round(hint.y * scale))
        cv2.circle(thumb, centre, 6, hint.rgb, -1, cv2.LINE_AA)
        cv2.circle(thumb, centre, 6, (255, 255, 255), 1, cv2.LINE_AA)


def row_for(name, grey, plain, hinted, reference, hints, scores) -> np.ndarray:
    scale = ROW / grey.shape[0]
    size = (round(grey.shape[1] * scale), ROW)
    images = (grey, plain, hinted, reference)
    thumbs = [cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images]
    y, x = crop_corner(name, grey)
    for thumb in thumbs:  # where the crop comes from
        top_left = (round(x * scale), round(y * scale))
        bottom_right = (round((x + CROP) * scale), round((y + CROP) * scale))
        cv2.rectangle(thumb, top_left, bottom_right, (255, 64, 64), 1)
    draw_hints(thumbs[2], hints, scale)
    (plain_e, _), (hinted_e, _) = scores
    titles = [
        f"{name} grey input",
        f"no hints dE {plain_e:.1f}",
        f"{len(hints)} hints dE {hinted_e:.1f}",
        "original colours",
    ]
    parts = [label(t, s) for t, s in zip(thumbs, titles, strict=True)]
    crop_pad = np.full((ROW - 2 * CROP, 2 * CROP, 3), 255, np.uint8)
    for im, title in zip(images[1:], ("no hints", "hints", "original"), strict=True):
        crop = cv2.resize(
            im[y : y + CROP, x : x + CROP], (2 * CROP, 2 * CROP), interpolation=cv2.INTER_NEAREST
        )  # fmt: skip
        parts.append(label(np.vstack([crop, crop_pad]), f"{title} 1:1 (2x)"))
    pad = np.full((ROW, GAP, 3), 255, np.uint8)
    out: list[np.ndarray] = []
    for part in parts:
        out += [part, pad]
    return np.hstack(out[:-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="a colorize_hint file")
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    out_default = ROOT / "docs" / "colorize_hints_contact_sheet.jpg"
    parser.add_argument("--out", type=Path, default=out_default)
    args = parser.parse_args(argv)
    options = api.RunOptions(device="cpu", weights=args.weights)
    why = refusal(options)
    if why is not None:
        print(f"{args.weights}: {why}", file=sys.stderr)
        return 2
    rows, totals = [], np.zeros(4)
    print(f"{'scan':6} {'hints':>5} {'ΔE00 none':>10} {'ΔE00 hinted':>12} "
          f"{'Δab none':>9} {'Δab hinted':>11}")  # fmt: skip
    for name in sorted(HINTS):
        reference = api.read_image(args.photos / name).pixels
        if reference.dtype != np.uint8:
            reference = (reference // 257).astype(np.uint8)
        grey = greyscale(reference)
        hints = hints_for(name, reference)
        plain = api.colorize(grey, options=options)
        hinted = api.colorize(grey, hints=hints, options=options)
        scores = (errors(plain, reference), errors(hinted, reference))
        (plain_e, plain_ab), (hinted_e, hinted_ab) = scores
        totals += (plain_e, hinted_e, plain_ab, hinted_ab)
        print(f"{name:6} {len(hints):5} {plain_e:10.2f} {hinted_e:12.2f} "
              f"{plain_ab:9.2f} {hinted_ab:11.2f}", flush=True)  # fmt: skip
        rows.append(row_for(name, grey, plain, hinted, reference, hints, scores))
    mean = totals / len(rows)
    print(f"{'mean':6} {'':5} {mean[0]:10.2f} {mean[1]:12.2f} {mean[2]:9.2f} {mean[3]:11.2f}")
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack(
        [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    api.write_image(args.out, sheet, quality=90)
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
