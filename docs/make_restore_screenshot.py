"""Screenshot of Restore Photo: the dialog over the editor, the analysis of the scan shown.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_restore_screenshot.py \
    [PHOTO] [--layers]

PHOTO (default resources/samples/old_photo_b_bw.png, the black-and-white sample) opens in
the editor; Restore ▸ Restore Photo… is triggered as a click would, the analysis runs on the
editor's worker thread, and once the dialog lists the steps the window and the dialog over
it are shot into docs/restore_photo.png. With ``--layers`` the dialog's Run is then clicked
with the proposed steps and, once the run is applied, the window (the Layers panel showing a
layer per step) is shot into docs/restore_photo_layers.png. Prints the dialog's heading and
step lines, and the status bar's line after the run.
"""

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, QTimer
from PySide6.QtGui import QCursor, QPainter
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
from editor.main_window import MainWindow  # noqa: E402

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
PHOTO = Path(ARGS[0]) if ARGS else Path("resources/samples/old_photo_b_bw.png")
LAYERS = "--layers" in sys.argv
DIALOG_SHOT, LAYERS_SHOT = "docs/restore_photo.png", "docs/restore_photo_layers.png"

tmp = Path(tempfile.mkdtemp())
window = MainWindow(
    settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
    recovery_dir=tmp / "recovery",
)
window.resize(1400, 900)
window.show()
QCursor.setPos(window.mapToGlobal(window.rect().bottomRight()))  # no brush circle in the shots
window.start_engine_loading()
window.files.open_path(PHOTO)
while window.document is None:  # the file is read on a worker thread
    app.processEvents()


def finish(code: int = 0, message: str = "") -> None:
    if message:
        print(f"error: {message}", file=sys.stderr)
    window.mark_clean()  # no unsaved-changes question: this is a picture, not work
    window.close()
    app.exit(code)


def start() -> None:
    if window.devices is None or window.runner.busy:  # the engine loads first
        QTimer.singleShot(200, start)
        return
    window.act.restore_photo.trigger()  # Restore ▸ Restore Photo…
    if window.restore_photo.dialog is None:
        finish(1, "Restore Photo did not open")


def analysed(outcome: str) -> None:
    if outcome != "finished":
        finish(1, f"the analysis ended with {outcome!r}")
        return
    QTimer.singleShot(500, shoot_dialog)  # let the dialog lay out its new lines


def shoot_dialog() -> None:
    dialog = window.restore_photo.dialog
    print(dialog.heading.text())
    for step, box in dialog.boxes.items():
        mark = "x" if box.isChecked() else " " if box.isEnabled() else "-"
        print(f"  [{mark}] {box.text()}: {dialog.notes[step].text()}")
    shot = window.grab()  # the window, then the dialog where it sits over it
    painter = QPainter(shot)
    where = window.mapFromGlobal(dialog.mapToGlobal(QPoint(0, 0)))
    painter.drawPixmap(where, dialog.grab())
    painter.end()
    shot.save(DIALOG_SHOT)
    if not LAYERS:
        finish()
        return
    dialog.run_button.click()


def ran(outcome: str) -> None:
    if outcome != "finished":
        finish(1, f"Restore Photo ended with {outcome!r}")
        return
    QTimer.singleShot(500, shoot_layers)


def shoot_layers() -> None:
    print(window.statusBar().currentMessage())
    window.grab().save(LAYERS_SHOT)
    finish()


window.restore_photo.analysis_ended.connect(analysed)
window.restore_photo.ended.connect(ran)
QTimer.singleShot(500, start)
sys.exit(app.exec())
