"""Screenshot of the editor: a sample photo, a mask (detected scratches + a stroke), split.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshot.py [--inpaint] OUT.png

With ``--inpaint`` the Inpaint tool runs on that mask first (the shipped model, on the
editor's worker thread, as a user's click would) and the shot shows its result layer.
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
window.files.open_path(Path("resources/samples/old_photo_g.png"))
while window.document is None:  # the file is read on a worker thread
    app.processEvents()
document = window.document
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
    if "--inpaint" in sys.argv and not outcomes:
        if not window.tasks.busy and not window.tasks.run_inpaint():
            fail("the Inpaint tool did not start")
            return
        QTimer.singleShot(200, shoot)
        return
    if outcomes and outcomes[0] != "finished":
        fail(f"the Inpaint tool ended with {outcomes[0]!r}")
        return
    window.grab().save(sys.argv[-1])
    window.mark_clean()  # no unsaved-changes question: this is a picture, not work
    window.close()
    app.quit()


QTimer.singleShot(500, shoot)
sys.exit(app.exec())
