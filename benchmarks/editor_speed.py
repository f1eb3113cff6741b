"""Editor responsiveness: start to window shown, opening a 24 MP photo, brush-stroke segments.

    .venv/bin/python -m benchmarks.editor_speed            # offscreen Qt platform
    xvfb-run -a .venv/bin/python -m benchmarks.editor_speed --platform xcb   # a real X window

Each measurement runs in a fresh process. "Stroke segment" is the time from the canvas's
stroke signal (what a mouse move produces) to the end of the synchronous repaint: stamping
the mask, updating the display cache and painting, at fit zoom and at 100 %.
Targets (issue 4): window ≤ 2 s, open ≤ 1.5 s, stroke segment ≤ 16 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _photo(path: Path, width: int, height: int) -> Path:
    from PIL import Image

    from benchmarks.speed import synthetic_photo

    Image.fromarray(synthetic_photo(width, height)).save(path, quality=92)
    return path


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _window(tmp: Path):
    from PySide6.QtCore import QSettings

    from editor.main_window import MainWindow

    store = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    return MainWindow(settings=store, recovery_dir=tmp / "recovery", devices=["cpu"])


def child_start(t0: float, tmp: Path) -> dict:
    app = _app()
    from editor.app import create_window

    window = create_window()  # shows the window; the engine loads once events run
    torch_before = "torch" in sys.modules
    app.processEvents()
    shown = time.time() - t0
    started = time.time()
    _wait(app, lambda: window.devices is not None or window.engine_error is not None)
    window.mark_clean()
    window.close()
    return {
        "window_shown_s": shown,
        "torch_loaded_before_show": torch_before,
        "engine_ready_s": time.time() - started,
    }


def _wait(app, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)


def child_open_and_stroke(photo: Path, tmp: Path) -> dict:
    app = _app()
    window = _window(tmp)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    window.open_paths([photo])
    _wait(app, lambda: window.document is not None)
    app.processEvents()
    opened = time.perf_counter() - started
    result = {"open_s": opened}
    canvas = window.canvas
    for label, zoom in (("fit", canvas.fit), ("100%", canvas.actual_size)):
        zoom()
        app.processEvents()
        centre = canvas.map_to_image(canvas.rect().center().toPointF())
        x, y = centre.x() - 150, centre.y() - 100
        times = []
        canvas.strokeStarted.emit(False)
        for _ in range(120):
            t = time.perf_counter()
            canvas.strokeSegment.emit(x, y, x + 2.5, y + 1.5)
            canvas.repaint()
            times.append((time.perf_counter() - t) * 1000)
            x, y = x + 2.5, y + 1.5
        canvas.strokeFinished.emit()
        app.processEvents()
        result[f"stroke_ms_mean_{label}"] = statistics.fmean(times)
        result[f"stroke_ms_p95_{label}"] = sorted(times)[int(0.95 * len(times))]
    window.mark_clean()
    window.close()
    return result


def _run_child(args: list[str], platform: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.editor_speed", "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="offscreen", help="Qt platform (offscreen, xcb)")
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "start":
            row = child_start(float(rest[0]), Path(rest[1]))
        else:
            row = child_open_and_stroke(Path(rest[0]), Path(rest[1]))
        print(json.dumps(row))
        return
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        photo = _photo(Path(tmp) / "scan.jpg", width, height)
        start = _run_child(["start", repr(time.time()), tmp], args.platform)
        edit = _run_child(["edit", str(photo), tmp], args.platform)
    print(f"Qt platform: {args.platform}; image {width}×{height} JPEG\n")
    print("| measurement | result | target |\n|---|---|---|")
    print(
        f"| start → window shown (torch loaded first: {start['torch_loaded_before_show']}) "
        f"| {start['window_shown_s']:.2f} s | ≤ 2 s |"
    )
    print(
        "| engine (torch) ready in the background after the window shows | "
        f"{start['engine_ready_s']:.2f} s | – |"
    )
    print(f"| open a {width * height / 1e6:.0f} MP photo | {edit['open_s']:.2f} s | ≤ 1.5 s |")
    for label in ("fit", "100%"):
        print(
            f"| brush-stroke segment at {label} zoom (mean / p95) | "
            f"{edit[f'stroke_ms_mean_{label}']:.1f} / {edit[f'stroke_ms_p95_{label}']:.1f} ms "
            "| ≤ 16 ms |"
        )


if __name__ == "__main__":
    main()
