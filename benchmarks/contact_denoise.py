"""Denoise contact sheet: a denoiser on real photos, before/after, to judge by eye.

    .venv/bin/python -m benchmarks.contact_denoise [--weights FILE] [--strength S ...]
        [--polyu N] [--out FILE.jpg] [--photos DIR]

(also `python -m benchmarks.contact_sheet denoise ...`, which comes here.)

Rows: the old sample scans (`--photos`), then `--polyu N` PolyU real noisy photos spread
evenly over the set by name, each with its clean `*_mean` reference when present. PolyU is
benchmark data: shown here, never trained on.

Columns, each with its label: the whole photo before (then the clean reference) and after
each `--strength` (thumbnails, the crop outlined in red); a 1:1 crop of the busiest detail
before (then the reference) and after each strength, enlarged 2× nearest-neighbour so each
pixel stays a pixel; then |difference| panels amplified ×4 (`--amplify`; |reference − before|
is the real noise, plus edges where the reference is misregistered; |after − before| is what
the denoiser removed): grain and JPEG removal show as
texture, a colour shift as a tint, lost structure as edges.

Busiest detail, the measurable criterion: the CROP×CROP window of the input with the highest
mean gradient energy, Sobel gx² + gy² of its grey image after a Gaussian blur (σ = 1.5). The
blur makes structure (hair, fabric, edges) win over flat areas that are merely noisy, so the
crop shows what a denoiser must keep as well as what it must remove.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.quality_common import BENCH
from engine import api

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT.parent / "shared" / "data" / "samples" / "old_photos"
POLYU = BENCH / "polyu"

ROW = 360  # px, the box a whole-photo thumbnail fits in
CROP = 160  # px, side of the 1:1 detail crop
ZOOM = 2  # the crop is shown enlarged this much, nearest-neighbour
AMPLIFY = 4  # |difference| panels are multiplied by this to be visible
GAP = 8  # px of white between cells and between rows
STRIP = 20  # px, the label strip above each cell
HEADER = 48  # px, two lines describing the sheet
BLUR_SIGMA = 1.5  # of the crop criterion's pre-blur
FONT = cv2.FONT_HERSHEY_SIMPLEX
OUTLINE = (255, 64, 64)  # RGB of the crop's outline on the thumbnails


@dataclass(frozen=True)
class Photo:
    name: str
    pixels: np.ndarray  # H×W×3 uint8 RGB, the noisy input
    reference: np.ndarray | None = None  # its clean version (PolyU's mean), when known


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    return pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)


def old_scans(folder: Path) -> list[Photo]:
    paths = sorted(p for p in folder.iterdir() if api.is_supported_image_path(p))
    return [Photo(p.stem, to_uint8(api.read_image(p).pixels)) for p in paths]


def polyu_photos(folder: Path, count: int) -> list[Photo]:
    """`count` noisy photos spread evenly over the set sorted by name (first and last
    included), each with its `*_mean` reference when that file exists."""
    noisy = sorted(folder.glob("*_real.*")) if count > 0 and folder.is_dir() else []
    if not noisy:
        return []
    picks = sorted({round(i) for i in np.linspace(0, len(noisy) - 1, min(count, len(noisy)))})
    photos = []
    for path in (noisy[i] for i in picks):
        mean = path.with_name(path.name.replace("_real.", "_mean.", 1))
        reference = to_uint8(api.read_image(mean).pixels) if mean.is_file() else None
        name = path.stem.removesuffix("_real")
        photos.append(Photo(name, to_uint8(api.read_image(path).pixels), reference))
    return photos


def detail_energy(pixels: np.ndarray) -> np.ndarray:
    """Per-pixel gradient energy of the blurred grey image (the crop criterion)."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), BLUR_SIGMA)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return gx * gx + gy * gy


def busiest_window(pixels: np.ndarray, size: int = CROP) -> tuple[int, int, int]:
    """(top, left, side) of the side×side window with the most detail energy; side is `size`
    or the photo's shorter side if smaller."""
    side = min(size, pixels.shape[0], pixels.shape[1])
    total = cv2.integral(detail_energy(pixels), sdepth=cv2.CV_64F)
    # Every window's sum at once from the integral image (exact, no anchor conventions).
    sums = total[side:, side:] - total[:-side, side:] - total[side:, :-side] + total[:-side, :-side]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y), int(x), side


def difference(a: np.ndarray, b: np.ndarray, gain: float = AMPLIFY) -> np.ndarray:
    """|a − b| per channel × gain, clipped to 8 bits: kept in colour so a shift shows as tint."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float32) * gain
    return np.clip(diff, 0, 255).round().astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def cell(image: np.ndarray | None, title: str, width: int, height: int) -> np.ndarray:
    """A white width×(STRIP + height) cell: the title in the strip, the image under it."""
    out = np.full((STRIP + height, width, 3), 255, np.uint8)
    scale = 0.45
    while scale > 0.25 and cv2.getTextSize(title, FONT, scale, 1)[0][0] > width - 4:
        scale -= 0.025  # long titles shrink rather than spill into the next cell
    cv2.putText(out, title, (2, STRIP - 6), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if image is not None:
        h, w = min(image.shape[0], height), min(image.shape[1], width)
        out[STRIP : STRIP + h, :w] = image[:h, :w]
    return out


def thumbnail(image: np.ndarray, window: tuple[int, int, int]) -> np.ndarray:
    """The whole photo fitted in ROW×ROW, the crop's window outlined."""
    scale = ROW / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    thumb = np.ascontiguousarray(cv2.resize(image, size, interpolation=shrink))
    y, x, side = window
    corners = (round(x * scale), round(y * scale)), (round((x + side) * scale) - 1,
                                                     round((y + side) * scale) - 1)  # fmt: skip
    cv2.rectangle(thumb, *corners, OUTLINE, 1)
    return thumb


def zoomed(image: np.ndarray, window: tuple[int, int, int]) -> np.ndarray:
    y, x, side = window
    crop = image[y : y + side, x : x + side]
    return cv2.resize(crop, (ZOOM * side, ZOOM * side), interpolation=cv2.INTER_NEAREST)


def row(
    photo: Photo, afters: dict[float, np.ndarray], reference_column: bool, amplify: float
) -> np.ndarray:
    """One photo's cells side by side; the reference's cells are blank when it has none but
    other rows do, so the columns line up down the sheet."""
    before, ref = photo.pixels, photo.reference
    window = busiest_window(before)
    height = max(ROW, ZOOM * CROP)
    gain = f"x{amplify:g}"
    noisy = f", PSNR {psnr(before, ref):.2f} dB" if ref is not None else ""
    thumbs = [(thumbnail(before, window), f"{photo.name} before{noisy}")]
    crops = [(zoomed(before, window), f"before 1:1 ({ZOOM}x nearest)")]
    diffs = []
    if reference_column:
        has = ref is not None
        thumbs.append((thumbnail(ref, window) if has else None, "clean reference" if has else ""))
        crops.append((zoomed(ref, window) if has else None, "clean 1:1" if has else ""))
        noise = zoomed(difference(ref, before, amplify), window) if has else None
        # Edges here are the reference's misregistration, not noise.
        diffs.append((noise, f"|clean - before| {gain}: noise (+misalignment)" if has else ""))
    for strength, after in afters.items():
        score = f", PSNR {psnr(after, ref):.2f} dB" if ref is not None else ""
        removed = np.abs(after.astype(np.int16) - before).mean()
        thumbs.append((thumbnail(after, window), f"after s={strength:g}{score}"))
        crops.append((zoomed(after, window), f"after s={strength:g} 1:1"))
        diff_title = f"|after s={strength:g} - before| {gain}, mean {removed:.1f}"
        diffs.append((zoomed(difference(after, before, amplify), window), diff_title))
    cells = [cell(im, t, ROW, height) for im, t in thumbs]
    cells += [cell(im, t, ZOOM * CROP, height) for im, t in crops + diffs]
    pad = np.full((STRIP + height, GAP, 3), 255, np.uint8)
    parts = [part for c in cells for part in (c, pad)][:-1]
    return np.hstack(parts)


def header(width: int, lines: list[str]) -> np.ndarray:
    out = np.full((HEADER, width, 3), 255, np.uint8)
    for i, text in enumerate(lines[:2]):
        cv2.putText(out, text, (4, 18 + 22 * i), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def build_sheet(
    photos: list[Photo],
    strengths: list[float],
    options: api.RunOptions,
    title: str = "",
    amplify: float = AMPLIFY,
) -> np.ndarray:
    """The sheet: a header, then one row per photo, each restored at every strength through
    the engine's public API exactly as the editor calls it."""
    reference_column = any(p.reference is not None for p in photos)
    rows = []
    for photo in photos:
        start = time.perf_counter()
        afters = {s: api.denoise(photo.pixels, strength=s, options=options) for s in strengths}
        rows.append(row(photo, afters, reference_column, amplify))
        print(f"{photo.name}: {time.perf_counter() - start:.1f} s", flush=True)
    width = max(r.shape[1] for r in rows)
    body = [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]  # fmt: skip
    legend = (
        f"crop: the {CROP}px window with the most gradient energy (Sobel^2 after a "
        f"sigma {BLUR_SIGMA} blur) in the input, shown {ZOOM}x nearest; |differences| x{amplify:g}"
    )
    return np.vstack([header(width, [title, legend]), *body])[:-GAP]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The denoise sheet's own options (contact_sheet.py adds them to its parser too)."""
    parser.add_argument(
        "--strength", type=float, action="append",
        help="denoise strength 0..2, repeat for more columns (default 1)",
    )  # fmt: skip
    parser.add_argument("--polyu", type=int, default=6, help="PolyU photos to add (0: none)")
    parser.add_argument("--polyu-dir", type=Path, default=POLYU)
    parser.add_argument(
        "--amplify", type=float, default=AMPLIFY,
        help=f"gain of the |difference| panels (default {AMPLIFY}; more for a timid model)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    strengths = args.strength or [1.0]
    options = api.RunOptions(device="cpu", weights=args.weights)
    photos = old_scans(args.photos) + polyu_photos(args.polyu_dir, args.polyu)
    model = args.weights.name if args.weights else "the shipped model"
    title = f"denoise: {model}, strengths {', '.join(f'{s:g}' for s in strengths)}"
    sheet = build_sheet(photos, strengths, options, title, args.amplify)
    out = args.out or ROOT / "docs" / "denoise_contact_sheet.jpg"
    api.write_image(out, sheet, quality=92)
    print(f"wrote {out} ({sheet.shape[1]}×{sheet.shape[0]})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--weights", type=Path, help="a weight file instead of the shipped one")
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
