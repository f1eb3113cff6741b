"""Screenshot of the editor: a sample photo, a mask (detected damage + a stroke), split.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshot.py \
    [--inpaint | --colorize] OUT.png

Mask → Auto-detect Damage proposes the mask (the engine's detector, on the editor's worker
thread, as a user's click would). With ``--inpaint`` the Inpaint tool then runs on that mask
the same way (the shipped model) and the shot shows its result layer.
With ``--colorize`` the photo is the black-and-white sample instead, with no mask, and the
Colorize tool runs on it the same way.
"""

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv)
from editor.main_window import MainWindow  # noqa: E402

tmp = Path(tempfile.mkdtemp())
window = MainWindow(
    settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
    recovery_dir=tmp / "recovery",
)
window.resize(1400, 900)
window.show()
window.start_engine_loading()
COLORIZE = "--colorize" in sys.argv
TOOL = "Colorize" if COLORIZE else "Inpaint" if "--inpaint" in sys.argv else None
photo = "old_photo_b_bw.png" if COLORIZE else "old_photo_g.png"
window.files.open_path(Path("resources/samples") / photo)
while window.document is None:  # the file is read on a worker thread
    app.processEvents()
window.act.split.setChecked(True)
DETECT = "Auto-detect Damage"
RUNS = {DETECT: window.tasks.detect_damage, "Inpaint": window.tasks.run_inpaint,
        "Colorize": window.tasks.run_colorize}  # fmt: skip
queue = ([] if COLORIZE else [DETECT]) + ([TOOL] if TOOL is not None else [])
started: list[str] = []
outcomes: list[str] = []


def ended(outcome: str) -> None:
    outcomes.append(outcome)
    if started[-1] == DETECT:  # a stroke of the brush beside what was detected
        window.edits.stroke_started(False)
        for x in range(430, 590, 6):
            window.edits.stroke_segment(0, 0, x, 520 - (x - 430) * 0.5)
        window.edits.stroke_finished()


window.tasks.ended.connect(ended)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    window.mark_clean()
    window.close()
    app.exit(1)


def shoot() -> None:
    if window.devices is None:
        QTimer.singleShot(100, shoot)
        return
    if outcomes and outcomes[-1] != "finished":
        fail(f"{started[-1]} ended with {outcomes[-1]!r}")
        return
    if window.runner.busy or len(outcomes) < len(started):  # one runs: wait for it
        QTimer.singleShot(200, shoot)
        return
    if len(started) < len(queue):
        started.append(queue[len(started)])
        if not RUNS[started[-1]]():
            fail(f"{started[-1]} did not start")
            return
        QTimer.singleShot(200, shoot)
        return
    QTimer.singleShot(500, grab)  # the panels follow the mask's last change after a delay


def grab() -> None:
    window.grab().save(sys.argv[-1])
    window.mark_clean()  # no unsaved-changes question: this is a picture, not work
    window.close()
    app.quit()


QTimer.singleShot(500, shoot)
sys.exit(app.exec())
