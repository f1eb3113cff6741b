"""Screenshot of the editor: a sample photo, a mask (detected scratches + a stroke), split.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshot.py \
    [--inpaint | --colorize] OUT.png

With ``--inpaint`` the Inpaint tool runs on that mask first (the shipped model, on the
editor's worker thread, as a user's click would) and the shot shows its result layer.
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
from engine import api  # noqa: E402

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
document = window.document
if not COLORIZE:
    found = api.detect_scratches(document.composite(), sensitivity=0.5)
    window.edits.add_to_mask(found, "Auto-detect scratches")
    window.edits.stroke_started(False)
    for x in range(430, 590, 6):
        window.edits.stroke_segment(0, 0, x, 520 - (x - 430) * 0.5)
    window.edits.stroke_finished()
window.act.split.setChecked(True)
outcomes: list[str] = []
window.tasks.ended.connect(outcomes.append)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    window.mark_clean()
    window.close()
    app.exit(1)


def shoot() -> None:
    if window.devices is None:
        QTimer.singleShot(100, shoot)
        return
    if TOOL is not None and not outcomes:
        run = window.tasks.run_colorize if COLORIZE else window.tasks.run_inpaint
        if not window.runner.busy and not run():
            fail(f"the {TOOL} tool did not start")
            return
        QTimer.singleShot(200, shoot)
        return
    if outcomes and outcomes[0] != "finished":
        fail(f"the {TOOL} tool ended with {outcomes[0]!r}")
        return
    window.grab().save(sys.argv[-1])
    window.mark_clean()  # no unsaved-changes question: this is a picture, not work
    window.close()
    app.quit()


QTimer.singleShot(500, shoot)
sys.exit(app.exec())
