"""Screenshot of the Colour Hint tool: a sample scan reduced to grey, pins placed on it with
colours the eyedropper took from the scan itself, open in a second window.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_hint_screenshot.py \
    ../shared/data/samples/old_photos/b.png docs/colour_hints.png

The pins are placed through the tool's controller as clicks would place them; the live
preview then runs on its worker thread with the installed colorizer. Prints the preview's
line (its time, or why there is none).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
from editor.main_window import MainWindow  # noqa: E402
from engine import api  # noqa: E402

SOURCE, OUT = Path(sys.argv[1]), sys.argv[2]
# Where a user would pin colours on old_photos/b.png (644×900): face, hair, dress, leaves,
# flowers, the path.
POINTS = [(300, 292), (262, 330), (292, 520), (330, 700), (90, 430), (560, 300), (150, 830)]

tmp = Path(tempfile.mkdtemp())
grey_path = tmp / f"{SOURCE.stem}-grey.png"
colour = api.read_image(SOURCE).pixels
lightness = np.rint(colour[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(colour.dtype)
api.write_image(grey_path, np.repeat(lightness[..., None], 3, axis=2))

window = MainWindow(
    settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
    recovery_dir=tmp / "recovery",
)
window.resize(1400, 900)
window.show()
window.start_engine_loading()
reference = window.spawn()  # the scan in colour, where the eyedropper reads
window.files.open_path(grey_path)
reference.files.open_path(SOURCE)
while window.document is None or reference.document is None:
    app.processEvents()
window.raise_()
window.act.hint_tool.trigger()
for x, y in POINTS:  # the eyedropper's reading of the colour scan, then a click here
    window.hint_panel.set_colour(reference.document.colour_at(x, y, radius=4))
    window.hints.place(x, y)
window.canvas.select_pin(window.document.pins[2].id)


def shoot() -> None:
    note = window.hint_panel.note.text()
    if window.devices is None or not note or window.hints.preview.busy:
        QTimer.singleShot(200, shoot)
        return
    print(note)
    window.grab().save(OUT)
    for each in (window, reference):
        each.mark_clean()  # no unsaved-changes question: this is a picture, not work
        each.close()
    app.quit()


QTimer.singleShot(500, shoot)
sys.exit(app.exec())
