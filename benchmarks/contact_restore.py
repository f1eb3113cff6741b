"""Restore Photo with its default choices on the real old scans, to look at: what did it do?

    .venv/bin/python -m benchmarks.contact_restore [--photos DIR]
        [--out docs/restore_contact_sheet.jpg]

One row per scan: the 8 sample scans (../shared/data/samples/old_photos) and the
black-and-white sample (resources/samples/old_photo_b_bw.png, b.png reduced to its
lightness). Each row is headed by the scan's name, `RestoreResult.summary()` (the CLI's
line) and what the analysis found; under it the whole scan before and after (`api.restore`
with `api.RestoreRequest()`: the steps the analysis proposes, colorize only for
black-and-white and toned photos), the damage mask it filled in red when it filled any,
then every face at 1:1 enlarged 2× with nearest-neighbour — before, after, and
|after − before| × 4 (of the lightness when it was colorized; the grey sample then shows
b.png's real colours last) — so plastic skin, colour shifts, seams, missed cracks and a bad
colorization show. Faces are the hand-placed centres of `benchmarks.contact_detect.FACES`;
a scan without a face (d, f) shows its busiest detail (`benchmarks.contact_sheet.
busiest_crop`) instead. The red box on the thumbnails is where the crop comes from.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks import contact_sheet
from benchmarks.contact_detect import FACE, FACES, ROW, _crop, _hstack, _thumb
from benchmarks.contact_sheet import GAP, PHOTOS, ROOT, label, with_mask
from engine import api

BW_SAMPLE = ROOT / "resources" / "samples" / "old_photo_b_bw.png"
BW_OF = {BW_SAMPLE.name: "b.png"}  # the same scan in grey: its faces are where b.png's are
DIFF_GAIN = 4
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
HEADER = 24  # px, the strip above each row that carries the summary


def face_centres(name: str, pixels: np.ndarray, photos: Path) -> list[tuple[int, int]]:
    """The hand-placed faces of the scan (or of the colour scan it was made from, when the
    sizes match), else the centre of its busiest detail."""
    source = BW_OF.get(name, name)
    if source != name:
        size = api.read_image(photos / source).pixels.shape[:2]
        if size != pixels.shape[:2]:
            raise SystemExit(f"{name} is {pixels.shape[:2]}, {source} {size}: not the same scan")
    if source in FACES:
        return FACES[source]
    y, x = contact_sheet.busiest_crop(pixels)
    half = contact_sheet.CROP // 2
    return [(x + half, y + half)]


def box(thumb: np.ndarray, scale: float, centre: tuple[int, int]) -> None:
    """Mark on a thumbnail where a FACE×FACE crop around `centre` comes from (as `_crop`)."""
    x, y = (c - FACE // 2 for c in centre)
    top_left = (round(x * scale), round(y * scale))
    bottom_right = (round((x + FACE) * scale), round((y + FACE) * scale))
    cv2.rectangle(thumb, top_left, bottom_right, (255, 64, 64), 1)


def difference(before: np.ndarray, after: np.ndarray, lightness: bool) -> np.ndarray:
    """|after − before| × DIFF_GAIN per channel, or of the lightness only (a colorized
    photo: every pixel's colour is new, the lightness shows what else changed)."""
    a, b = after.astype(np.float32), before.astype(np.float32)
    if lightness:
        a, b = (np.repeat((x @ LUMA)[..., None], 3, axis=2) for x in (a, b))
    return np.clip(np.abs(a - b) * DIFF_GAIN, 0, 255).astype(np.uint8)


def rows_for(name: str, before: np.ndarray, photos: Path, options: api.RunOptions):
    started = time.perf_counter()
    analysis = api.analyse_scan(before, options=options)
    result = api.restore(before, api.RestoreRequest(), analysis=analysis, options=options)
    seconds = time.perf_counter() - started
    after = result.image
    found = "; ".join(analysis.findings()[s] for s in (api.RestoreStep.DETECT,
                                                       api.RestoreStep.DENOISE,
                                                       api.RestoreStep.COLOURS))  # fmt: skip
    print(f"{name}: {found} -> {result.summary()} ({seconds:.1f} s)", flush=True)
    scale = ROW / before.shape[0]
    thumbs = [_thumb(before), _thumb(after)]
    centres = face_centres(name, before, photos)
    for centre in centres:
        for thumb in thumbs:
            box(thumb, scale, centre)
    source = BW_OF.get(name, name)
    what = "face" if source in FACES else "busiest detail"
    coloured = result.step(api.RestoreStep.COLORIZE)
    lightness = coloured is not None and coloured.skipped is None
    change = difference(before, after, lightness)
    change_title = f"|{'lightness ' if lightness else ''}after-before| x{DIFF_GAIN}"
    # The grey sample's real colours: the colour scan it was made from, never seen by the model.
    reference = api.read_image(photos / source).pixels if source != name else None
    parts = [label(thumbs[0], "before"), label(thumbs[1], "after")]
    filled = result.step(api.RestoreStep.INPAINT)
    if filled is not None and filled.image is not None:  # where the fill step changed it
        marked = _thumb(with_mask(before, result.mask))
        parts.append(label(marked, f"filled (red) {result.mask.mean():.2%}"))
    for centre in centres:
        parts += [
            label(_crop(before, centre), f"{what} 1:1 (2x), before"),
            label(_crop(after, centre), "after"),
            label(_crop(change, centre), change_title),
        ]
        if reference is not None:
            parts.append(label(_crop(reference, centre), f"{source}: real colours"))
    row = _hstack(parts, ROW)
    header = np.full((HEADER, row.shape[1], 3), 255, np.uint8)
    text = f"{name}: {result.summary()}   [found: {found}]"
    return np.vstack([label(header, text), row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "restore_contact_sheet.jpg")
    args = parser.parse_args(argv)
    options = api.RunOptions(device="cpu")
    scans = sorted(args.photos.glob("*.png")) + [BW_SAMPLE]
    rows = []
    for path in scans:
        before = api.read_image(path).pixels
        if before.dtype != np.uint8:
            before = (before // 257).astype(np.uint8)
        rows.append(rows_for(path.name, before, args.photos, options))
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack(
        [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    api.write_image(args.out, sheet, quality=88)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]}, {size:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
