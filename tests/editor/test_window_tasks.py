"""Restorations from the window: each task through the real worker thread and the real
engine (tiny fixture weights), the result layer and its undo, the mask-only option, cancel,
errors, refusals, and damage detection."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from editor.main_window import MainWindow
from engine import api

TIMEOUT_MS = 30000


@pytest.fixture
def photo(engine_window: MainWindow, png) -> MainWindow:
    assert engine_window.files.open_path(png[0])
    return engine_window


def _paint_square(window: MainWindow, y0: int, y1: int, x0: int, x1: int) -> None:
    mask = np.zeros(window.document.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = 255
    window.edits.add_to_mask(mask > 0, "Paint mask")


def _run(window: MainWindow, qtbot, action) -> str:  # noqa: ANN001
    with qtbot.waitSignal(window.tasks.ended, timeout=TIMEOUT_MS) as ended:
        action.trigger()
    return ended.args[0]


def test_denoise_runs_in_the_background_and_adds_a_result_layer(photo: MainWindow, qtbot) -> None:
    composite = photo.document.composite()
    values: list[int] = []
    photo.job_progress.bar.valueChanged.connect(values.append)
    photo.restore_panel.denoise_strength.setValue(60)
    with qtbot.waitSignal(photo.tasks.ended, timeout=TIMEOUT_MS) as ended:
        photo.act.denoise.trigger()
        assert photo.runner.busy and not photo.act.denoise.isEnabled()
        assert photo.job_progress.bar.isVisible() and photo.job_progress.cancel_button.isVisible()
        # Nothing is recorded until the result is whole: no step, nothing to undo.
        assert photo.history.count() == 0 and not photo.act.undo.isEnabled()
    assert ended.args == ["finished"]
    layers = photo.document.layers
    assert [x.name for x in layers] == ["Original", "Denoise (60%)"]
    result = layers[1]
    assert result.pixels.shape == composite.shape and result.coverage is None
    assert not np.array_equal(result.pixels, composite)  # the engine really ran
    assert values and values[-1] == 1000
    assert not photo.job_progress.bar.isVisible() and photo.act.denoise.isEnabled()
    assert photo.layers_panel.current_id() == result.id
    assert photo.history.text(0) == "Denoise (60%)"
    photo.act.undo.trigger()
    assert len(photo.document.layers) == 1
    photo.act.redo.trigger()
    assert photo.document.layers[1].id == result.id
    assert np.array_equal(photo.document.composite(), result.pixels)


def test_inpaint_fills_the_painted_mask_then_clears_it_in_one_step(
    photo: MainWindow, qtbot
) -> None:
    _paint_square(photo, 10, 20, 10, 30)
    painted = photo.document.mask.copy()
    before = photo.document.composite()
    assert _run(photo, qtbot, photo.act.inpaint) == "finished"
    layers = photo.document.layers
    assert [x.name for x in layers] == ["Original", "Inpaint"]
    far = np.ones(painted.shape, bool)
    far[0:30, 0:40] = False  # the hole and the engine's feathered seam around it
    assert np.array_equal(layers[1].pixels[far], before[far])
    holes = painted > 0
    assert not np.array_equal(layers[1].pixels[holes], before[holes])
    # The layer holds only what the engine changed: hiding it shows the photo beneath.
    coverage = layers[1].coverage
    assert coverage is not None and not coverage[far].any()
    assert (coverage[holes] == 255).mean() > 0.95
    photo.document.set_visible(layers[1].id, False)
    assert np.array_equal(photo.document.composite(), before)
    photo.document.set_visible(layers[1].id, True)
    assert photo.document.mask_is_empty()
    assert photo.history.text(photo.history.count() - 1) == "Inpaint"
    photo.act.undo.trigger()  # one step: the layer goes and the mask comes back
    assert len(photo.document.layers) == 1
    assert np.array_equal(photo.document.mask, painted)
    photo.act.redo.trigger()
    assert len(photo.document.layers) == 2 and photo.document.mask_is_empty()


def test_colorize_a_grey_photo_runs_without_asking(
    engine_window: MainWindow, qtbot, tmp_path, dialogs
) -> None:
    grey = np.repeat(np.linspace(0, 255, 48 * 64).reshape(48, 64, 1), 3, axis=2).astype(np.uint8)
    path = tmp_path / "grey.png"
    api.write_image(path, grey)
    assert engine_window.files.open_path(path)
    assert "Adds colour" in engine_window.restore_panel.colour_note.text()
    engine_window.restore_panel.colorize_strength.setValue(80)
    assert _run(engine_window, qtbot, engine_window.act.colorize) == "finished"
    assert dialogs.confirms == []
    assert [x.name for x in engine_window.document.layers] == ["Original", "Colorize (80%)"]


def test_colorize_asks_first_when_the_photo_has_colour(photo: MainWindow, qtbot, dialogs) -> None:
    assert "already has colour" in photo.restore_panel.colour_note.text()
    dialogs.confirm_answer = False
    photo.act.colorize.trigger()
    assert dialogs.confirms == ["This photo already has colour; colorizing replaces it. Continue?"]
    assert not photo.runner.busy and len(photo.document.layers) == 1
    dialogs.confirm_answer = True
    assert _run(photo, qtbot, photo.act.colorize) == "finished"
    assert len(photo.document.layers) == 2


def test_only_inside_the_mask_gives_the_result_layer_the_mask_as_coverage(
    photo: MainWindow, qtbot, dialogs
) -> None:
    photo.restore_panel.inside_mask.setChecked(True)
    photo.act.denoise.trigger()  # the mask is empty: explained, nothing runs
    assert dialogs.infos and "mask is empty" in dialogs.infos[-1][1]
    assert not photo.runner.busy
    _paint_square(photo, 5, 15, 5, 25)
    mask = photo.document.mask.copy()
    assert _run(photo, qtbot, photo.act.denoise) == "finished"
    layer = photo.document.layers[-1]
    assert layer.name == "Denoise (100%, in mask)"
    assert np.array_equal(layer.coverage, mask)
    composite = photo.document.composite()
    original = photo.document.original.pixels
    assert np.array_equal(composite[mask == 0], original[mask == 0])


def test_inpaint_with_an_empty_mask_explains_instead_of_running(
    photo: MainWindow, dialogs, thread_tracker
) -> None:
    photo.act.inpaint.trigger()
    ((title, text),) = dialogs.infos
    assert title == "Inpaint" and "the mask is empty" in text and "Paint over" in text
    assert thread_tracker.started == [] and len(photo.document.layers) == 1
    assert "Paint over the damage" in photo.restore_panel.inpaint_note.text()


def _slow_denoise(image, *, progress=None, cancel=None, **_):  # noqa: ANN001, ANN202
    """Like the engine: works tile after tile, checking the token in between."""
    done = 0
    while not cancel.cancelled:
        done += 1
        progress(api.Progress("denoise", done % 100, 100))
        time.sleep(0.005)
    raise api.Cancelled("cancelled by the user")


def test_cancel_stops_a_run_and_leaves_the_document(
    photo: MainWindow, qtbot, monkeypatch, dialogs
) -> None:
    monkeypatch.setattr(api, "denoise", _slow_denoise)
    before = photo.document.layers
    with qtbot.waitSignal(photo.tasks.ended, timeout=TIMEOUT_MS) as ended:
        photo.act.denoise.trigger()
        qtbot.waitUntil(lambda: photo.job_progress.bar.value() > 0)
        # The window stays usable: painting works while the task runs...
        photo.edits.stroke_started(False)
        photo.edits.stroke_segment(5, 5, 20, 5)
        photo.edits.stroke_finished()
        assert photo.document.mask[5, 10] > 0
        # ...and a second run is refused with a message.
        assert not photo.tasks.run_colorize()
        assert "Denoise is still running" in photo.statusBar().currentMessage()
        qtbot.mouseClick(photo.job_progress.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert "Denoise cancelled" in photo.statusBar().currentMessage()
    assert photo.document.layers == before and dialogs.errors == []
    assert not photo.runner.busy and photo.act.denoise.isEnabled()


def test_an_engine_error_is_a_dialog_with_the_detail(
    photo: MainWindow, qtbot, monkeypatch, dialogs
):
    def missing(image, **_):  # noqa: ANN001, ANN202
        raise api.ModelUnavailable("resources/weights/denoise.pt is not installed")

    monkeypatch.setattr(api, "denoise", missing)
    assert _run(photo, qtbot, photo.act.denoise) == "failed"
    title, text, detail = dialogs.last_error
    assert title == "Denoise failed"
    assert "No usable denoise model is installed" in text and "not changed" in text
    assert detail == "ModelUnavailable: resources/weights/denoise.pt is not installed"
    assert len(photo.document.layers) == 1 and photo.history.count() == 0


def test_a_result_that_does_not_fit_is_refused_whole(
    photo: MainWindow, qtbot, monkeypatch, dialogs
):
    monkeypatch.setattr(api, "denoise", lambda image, **_: image[:10])
    assert _run(photo, qtbot, photo.act.denoise) == "failed"
    assert "does not fit" in dialogs.last_error[1]
    assert len(photo.document.layers) == 1 and photo.history.count() == 0


def test_a_result_arriving_during_a_stroke_waits_for_its_end(
    photo: MainWindow, qtbot, monkeypatch
) -> None:
    release = threading.Event()

    def held(image, _holes, **_):  # noqa: ANN001, ANN202
        release.wait(10)
        return image.copy()

    monkeypatch.setattr(api, "inpaint", held)
    _paint_square(photo, 0, 10, 0, 10)
    photo.act.inpaint.trigger()
    canvas = photo.canvas
    start = canvas.map_from_image(QPointF(40, 30)).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    release.set()
    qtbot.waitUntil(lambda: not photo.runner.busy, timeout=TIMEOUT_MS)
    assert len(photo.document.layers) == 1  # not yet: the stroke is still going
    with qtbot.waitSignal(photo.tasks.ended, timeout=TIMEOUT_MS):
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start)
    assert len(photo.document.layers) == 2
    mask = photo.document.mask
    assert not mask[0:10, 0:10].any()  # the holes that were inpainted are cleared...
    assert mask[30, 40] == 255  # ...the stroke painted while it ran is kept
    names = [photo.history.text(i) for i in range(photo.history.count())]
    assert names[-3:] == ["Paint mask", "Paint mask", "Inpaint"]  # the stroke is a step
    photo.act.undo.trigger()  # one step: the layer and the cleared holes come back together
    assert len(photo.document.layers) == 1 and photo.document.mask[0:10, 0:10].all()
    assert photo.document.mask[30, 40] == 255


def test_closing_the_window_cancels_and_joins_a_run(
    photo: MainWindow, qtbot, monkeypatch, thread_tracker
) -> None:
    monkeypatch.setattr(api, "denoise", _slow_denoise)
    photo.act.denoise.trigger()
    qtbot.waitUntil(lambda: photo.job_progress.bar.value() > 0)
    assert thread_tracker.running()
    assert photo.close()
    assert thread_tracker.running() == [] and not photo.runner.busy


def test_auto_detect_damage_adds_to_the_mask_as_one_step(
    engine_window: MainWindow, qtbot, tmp_path, engine_detect_damage
) -> None:
    """The engine's detector (learned, or classical where no model is installed) on a
    worker thread; whatever it finds is added to the mask as one step."""
    image = np.full((96, 128, 3), 120, np.uint8)
    image[40:42, 10:118] = 250  # a thin bright scratch
    path = tmp_path / "scratched.png"
    api.write_image(path, image)
    assert engine_window.files.open_path(path)
    engine_window.edits.add_to_mask(np.pad(np.ones((4, 4), bool), ((0, 92), (0, 124))), "Paint")
    before = engine_window.document.mask.copy()
    assert _run(engine_window, qtbot, engine_window.act.detect) == "finished"
    mask, history = engine_window.document.mask, engine_window.history
    assert mask[1, 1] == 255 and np.all(mask >= before)  # the painted part kept
    if not np.array_equal(mask, before):
        assert history.text(history.count() - 1) == "Auto-detect damage"
        engine_window.act.undo.trigger()
    assert np.array_equal(engine_window.document.mask, before)


def test_auto_detect_sends_the_sensitivity_and_options(photo: MainWindow, qtbot, monkeypatch):  # noqa: ANN001
    seen: list[dict] = []

    def detect_damage(image: np.ndarray, **kwargs: object) -> np.ndarray:
        seen.append(kwargs)
        found = np.zeros(image.shape[:2], bool)
        found[20:22, 5:60] = True
        return found

    monkeypatch.setattr(api, "detect_damage", detect_damage, raising=False)
    photo.tools_panel.sensitivity.setValue(35)
    assert photo.act.detect.text() == "Auto-detect &Damage"
    assert _run(photo, qtbot, photo.act.detect) == "finished"
    assert seen[0]["sensitivity"] == 0.35 and seen[0]["options"] == photo.run_options()
    assert photo.document.mask[21, 30] == 255
    assert photo.history.count() == 1 and photo.history.text(0) == "Auto-detect damage"


def test_cancel_stops_auto_detect_in_the_engine(
    photo: MainWindow, qtbot, monkeypatch, engine_detect_damage
) -> None:
    import threading

    real = engine_detect_damage
    started, go = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def detect(image: np.ndarray, **kwargs: object) -> np.ndarray:
        started.set()
        go.wait(10)  # until the user has pressed Cancel
        try:
            return real(image, **kwargs)
        except BaseException as error:
            raised.append(error)
            raise

    monkeypatch.setattr(api, "detect_damage", detect, raising=False)
    mask = photo.document.mask.copy()
    with qtbot.waitSignal(photo.tasks.ended, timeout=TIMEOUT_MS) as ended:
        photo.act.detect.trigger()
        assert started.wait(10)
        photo.job_progress.cancel_button.click()
        go.set()
    assert ended.args == ["cancelled"]
    assert len(raised) == 1 and isinstance(raised[0], api.Cancelled)  # the engine stopped
    assert np.array_equal(photo.document.mask, mask) and photo.history.count() == 0


def test_inpaint_leaves_no_soft_brush_edge_behind(photo: MainWindow, qtbot) -> None:
    """A brush stroke's soft rim (values below the hole threshold) goes with its hole."""
    photo.edits.stroke_started(False)
    photo.edits.stroke_segment(20, 20, 20, 20)  # the press
    photo.edits.stroke_segment(20, 20, 40, 24)
    photo.edits.stroke_finished()
    rim = (photo.document.mask > 0) & (photo.document.mask < 128)
    assert rim.any()  # the brush is soft: there is an edge to leave behind
    assert _run(photo, qtbot, photo.act.inpaint) == "finished"
    assert not photo.document.mask.any()


def test_denoise_strength_goes_to_200_percent_and_reaches_the_engine(
    photo: MainWindow, qtbot, monkeypatch
) -> None:
    seen: list[float] = []
    real = api.denoise

    def spy(image, **kwargs):  # noqa: ANN001, ANN003
        seen.append(kwargs["strength"])
        return real(image, **kwargs)

    monkeypatch.setattr(api, "denoise", spy)
    slider = photo.restore_panel.denoise_strength
    assert (slider.minimum(), slider.maximum(), slider.value()) == (0, 200, 100)
    slider.setValue(200)
    assert _run(photo, qtbot, photo.act.denoise) == "finished"
    assert seen == [2.0]
    assert photo.document.layers[-1].name == "Denoise (200%)"


def test_closing_with_unsaved_changes_during_a_run_can_still_save(
    photo: MainWindow, qtbot, monkeypatch, dialogs, tmp_path, thread_tracker
) -> None:
    from editor.dialogs import Unsaved
    from editor.doc import load_ora

    _paint_square(photo, 5, 15, 5, 25)  # an unsaved change
    monkeypatch.setattr(api, "denoise", _slow_denoise)
    photo.act.denoise.trigger()
    qtbot.waitUntil(lambda: photo.job_progress.bar.value() > 0)
    dialogs.unsaved_answer = Unsaved.SAVE
    dialogs.save_path = tmp_path / "kept.ora"
    assert photo.close()  # the run stops first, so the prompt's Save is not refused
    assert load_ora(tmp_path / "kept.ora").mask.any()
    assert thread_tracker.running() == []
