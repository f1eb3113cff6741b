"""Restore Photo from the window: the analysis in the dialog (through the real worker thread
and the real engine, tiny fixture weights, the classical damage detector), the run that adds
one layer per step and the damage mask in ONE undo step, cancel (of the analysis and of the
run), errors, and a step whose model is not installed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from editor.main_window import MainWindow
from editor.restore_dialog import NO_MODEL, RestorePhotoDialog
from engine import api
from engine.weights import ModelEntry, sha256_of, write_manifest

TIMEOUT_MS = 30000
Step = api.RestoreStep


def _scratched_grey(height: int = 96, width: int = 128) -> np.ndarray:
    """A grey gradient with grain and two bright scratches (the classical detector finds
    them)."""
    rng = np.random.default_rng(1)
    grey = np.tile(np.linspace(60, 190, width), (height, 1)) + rng.normal(0, 6, (height, width))
    grey[20:22, 10:110] = 250
    grey[40:80, 70:71] = 250
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _open(window: MainWindow, tmp_path: Path) -> MainWindow:
    path = tmp_path / "scan.png"
    api.write_image(path, _scratched_grey())
    assert window.files.open_path(path)
    return window


@pytest.fixture
def photo(engine_window: MainWindow, tmp_path: Path) -> MainWindow:
    return _open(engine_window, tmp_path)


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> list[api.RestoreResult]:
    """Every result `api.restore` returned (the real engine's), to compare with the layers."""
    real, results = api.restore, []

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(api, "restore", spy)
    return results


def _analyse(window: MainWindow, qtbot) -> RestorePhotoDialog:  # noqa: ANN001
    with qtbot.waitSignal(window.restore_photo.analysis_ended, timeout=TIMEOUT_MS) as ended:
        window.act.restore_photo.trigger()
        dialog = window.restore_photo.dialog
        assert dialog is not None and dialog.isVisible()
        assert window.runner.busy and not window.act.restore_photo.isEnabled()
        assert not dialog.run_button.isEnabled()  # nothing to run before the analysis is in
    assert ended.args == ["finished"]
    assert not window.runner.busy and dialog.analysis is not None
    return dialog


def _run(window: MainWindow, dialog: RestorePhotoDialog, qtbot) -> str:  # noqa: ANN001
    with qtbot.waitSignal(window.restore_photo.ended, timeout=TIMEOUT_MS) as ended:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    return ended.args[0]


def made_with(result: api.RestoreResult, step: api.RestoreStep) -> dict:
    found = result.step(step)
    assert found is not None
    return found.settings


def _square_mask(window: MainWindow) -> np.ndarray:
    mask = np.zeros(window.document.shape[:2], bool)
    mask[60:70, 10:30] = True
    window.edits.add_to_mask(mask, "Paint mask")
    return window.document.mask.copy()


def test_the_action_is_in_the_menu_and_the_restore_panel(photo: MainWindow) -> None:
    menu = next(a.menu() for a in photo.menuBar().actions() if a.text() == "&Restore")
    assert menu.actions()[0] is photo.act.restore_photo
    buttons = photo.restore_panel.findChildren(QToolButton)
    assert photo.act.restore_photo in [b.defaultAction() for b in buttons]
    assert photo.act.restore_photo.isEnabled()


def test_the_analysis_prechecks_the_proposed_steps_with_their_findings(
    photo: MainWindow, qtbot
) -> None:
    dialog = _analyse(photo, qtbot)
    analysis = dialog.analysis
    # The photo the user sees was analysed, at the Tools panel's sensitivity.
    expected = api.analyse_scan(
        photo.document.composite(), sensitivity=photo.tools_panel.sensitivity_fraction,
        options=photo.run_options(),
    )  # fmt: skip
    assert np.array_equal(analysis.mask, expected.mask) and analysis.grey
    assert analysis.detector == "classical" and analysis.damage_percent > 1
    proposed = analysis.proposed()
    assert {Step.DETECT, Step.INPAINT, Step.COLORIZE} <= set(proposed)  # grey and scratched
    assert Step.COLOURS not in proposed  # a grey photo has no colours to restore
    findings = analysis.findings()
    for step, box in dialog.boxes.items():
        assert box.isEnabled() and box.isChecked() == (step in proposed)
        assert dialog.notes[step].text() == findings[step]
    assert dialog.colorize and dialog.run_button.isEnabled()
    assert dialog.chosen_steps == proposed
    # Analysing changes nothing.
    assert photo.history.count() == 0 and len(photo.document.layers) == 1
    for box in dialog.boxes.values():
        box.setChecked(False)
    assert not dialog.run_button.isEnabled()  # nothing chosen, nothing to run
    dialog.cancel_button.click()
    assert photo.restore_photo.dialog is None and not photo.runner.busy
    assert photo.history.count() == 0


def test_run_adds_a_layer_per_step_and_the_mask_as_one_undo_step(
    photo: MainWindow, qtbot, restores
) -> None:
    painted = _square_mask(photo)
    steps_before = photo.history.count()
    dialog = _analyse(photo, qtbot)
    analysis = dialog.analysis
    dialog.boxes[Step.DENOISE].setChecked(True)  # whatever the tiny denoiser's noise level
    assert dialog.chosen_steps == (Step.DETECT, Step.INPAINT, Step.DENOISE, Step.COLORIZE)
    photo.restore_panel.denoise_strength.setValue(150)
    shown: list[str] = []
    photo.statusBar().messageChanged.connect(shown.append)
    assert _run(photo, dialog, qtbot) == "finished"
    # The status bar named each step as it ran.
    for title in ("Fill damage", "Denoise", "Colorize"):
        assert f"Restore Photo: {title}…" in shown
    assert photo.restore_photo.dialog is None
    ((result,),) = [restores]
    assert result.analysis is analysis  # the detector did not run twice
    assert made_with(result, Step.DENOISE)["strength"] == 1.5  # the Restore panel's
    made = [r for r in result.steps if r.image is not None and r.step is not Step.DETECT]
    assert [r.step for r in made] == [Step.INPAINT, Step.DENOISE, Step.COLORIZE]
    layers = photo.document.layers
    assert [x.name for x in layers] == ["Original", *(r.label for r in made)]
    assert layers[1].name.startswith("Fill damage: ") and layers[2].name.startswith("Denoise: ")
    for layer, step in zip(layers[1:], made, strict=True):
        assert np.array_equal(layer.pixels, step.image) and layer.coverage is None
    assert np.array_equal(photo.document.composite(), result.image)  # the last on top
    assert photo.layers_panel.current_id() == layers[-1].id
    # The damage found replaces the painted mask, to edit and inpaint again.
    damage = analysis.mask
    assert np.array_equal(result.mask, damage)
    assert np.array_equal(photo.document.mask, damage.astype(np.uint8) * 255)
    # Its damage is filled already: the red overlay is hidden so the restored photo shows.
    assert not photo.act.show_mask.isChecked() and not photo.canvas.mask_visible
    assert result.summary() in photo.statusBar().currentMessage()
    # One undo step takes it all back, one redo brings it all back.
    assert photo.history.count() == steps_before + 1
    assert photo.history.text(photo.history.count() - 1) == "Restore Photo"
    photo.act.undo.trigger()
    assert [x.name for x in photo.document.layers] == ["Original"]
    assert np.array_equal(photo.document.mask, painted)
    photo.act.redo.trigger()
    assert [x.id for x in photo.document.layers] == [x.id for x in layers]
    assert np.array_equal(photo.document.mask, damage.astype(np.uint8) * 255)
    # The mask left behind is the one Inpaint fills.
    with qtbot.waitSignal(photo.tasks.ended, timeout=TIMEOUT_MS) as ended:
        photo.act.inpaint.trigger()
    assert ended.args == ["finished"] and photo.document.layers[-1].name == "Inpaint"


def test_only_the_checked_steps_run(photo: MainWindow, qtbot, restores) -> None:
    dialog = _analyse(photo, qtbot)
    for step, box in dialog.boxes.items():
        box.setChecked(step is Step.DENOISE)
    assert not dialog.colorize
    assert _run(photo, dialog, qtbot) == "finished"
    (result,) = restores
    assert [r.step for r in result.steps] == [Step.DENOISE]
    assert [x.name.split(":")[0] for x in photo.document.layers] == ["Original", "Denoise"]
    assert photo.document.mask_is_empty()  # no damage was looked for: the mask stays


def _held(real, *, at_start: bool = False):  # noqa: ANN001, ANN202
    """`real` (an engine call) that waits until cancelled, at its first progress report (or
    `at_start`), then goes on: the engine itself then stops at its next check."""
    reached = threading.Event()

    def call(*args, progress=None, cancel=None, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        def hold() -> None:
            reached.set()
            deadline = time.monotonic() + 20
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.005)

        def report(value: api.Progress) -> None:
            hold()
            if progress is not None:
                progress(value)

        if at_start:
            hold()
        return real(*args, progress=report, cancel=cancel, **kwargs)

    call.reached = reached
    return call


def test_cancelling_the_run_leaves_the_document_unchanged(
    photo: MainWindow, qtbot, monkeypatch, dialogs
) -> None:
    painted = _square_mask(photo)
    steps_before = photo.history.count()
    dialog = _analyse(photo, qtbot)
    held = _held(api.restore)
    monkeypatch.setattr(api, "restore", held)
    with qtbot.waitSignal(photo.restore_photo.ended, timeout=TIMEOUT_MS) as ended:
        dialog.run_button.click()
        assert photo.runner.busy and photo.job_progress.cancel_button.isVisible()
        assert held.reached.wait(10)
        qtbot.mouseClick(photo.job_progress.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"] and dialogs.errors == []
    assert "Restore Photo cancelled" in photo.statusBar().currentMessage()
    assert [x.name for x in photo.document.layers] == ["Original"]
    assert np.array_equal(photo.document.mask, painted)
    assert photo.history.count() == steps_before and not photo.runner.busy


def test_cancelling_the_analysis_closes_the_dialog(photo: MainWindow, qtbot, monkeypatch) -> None:
    held = _held(api.analyse_scan, at_start=True)
    monkeypatch.setattr(api, "analyse_scan", held)
    with qtbot.waitSignal(photo.restore_photo.analysis_ended, timeout=TIMEOUT_MS) as ended:
        photo.act.restore_photo.trigger()
        dialog = photo.restore_photo.dialog
        assert held.reached.wait(10) and photo.runner.busy
        dialog.cancel_button.click()
    assert ended.args == ["cancelled"]
    assert photo.restore_photo.dialog is None and not photo.runner.busy
    assert "cancelled" in photo.statusBar().currentMessage()
    assert photo.history.count() == 0 and len(photo.document.layers) == 1
    assert photo.act.restore_photo.isEnabled()


def test_an_engine_error_is_one_message_and_changes_nothing(
    photo: MainWindow, qtbot, monkeypatch, dialogs
) -> None:
    dialog = _analyse(photo, qtbot)

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise api.OutOfMemory("denoise: the device ran out of memory")

    monkeypatch.setattr(api, "restore", broken)
    assert _run(photo, dialog, qtbot) == "failed"
    ((title, text, detail),) = dialogs.errors
    assert title == "Restore Photo failed" and "ran out of memory" in text
    assert detail == "OutOfMemory: denoise: the device ran out of memory"
    assert len(photo.document.layers) == 1 and photo.document.mask_is_empty()
    assert photo.history.count() == 0


def test_a_result_that_does_not_fit_is_refused_whole(
    photo: MainWindow, qtbot, monkeypatch, dialogs
) -> None:
    dialog = _analyse(photo, qtbot)
    real = api.restore

    def wrong(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = real(*args, **kwargs)
        last = result.steps[-1]
        bad = api.StepResult(last.step, last.image[:10], last.settings, last.summary)
        return api.RestoreResult(result.image, (*result.steps[:-1], bad), result.analysis,
                                 result.mask)  # fmt: skip

    monkeypatch.setattr(api, "restore", wrong)
    assert _run(photo, dialog, qtbot) == "failed"
    assert dialogs.last_error[0] == "Restore Photo failed"
    assert len(photo.document.layers) == 1 and photo.document.mask_is_empty()
    assert photo.history.count() == 0


def _resources_without_colorize(root: Path, weights: dict[str, Path]) -> Path:
    folder = root / "weights"
    folder.mkdir(parents=True)
    entries = []
    for task in ("denoise", "inpaint"):
        target = folder / weights[task].name
        target.write_bytes(weights[task].read_bytes())
        digest, size = sha256_of(target), target.stat().st_size
        entries.append(ModelEntry(task, task, "blind", target.name, digest, size))
    write_manifest(folder, entries)
    return root


def test_a_step_without_its_model_is_disabled(
    make_window, tiny_weights, tmp_path: Path, qtbot, restores
) -> None:
    resources = _resources_without_colorize(tmp_path / "resources", tiny_weights)
    window = _open(make_window(engine_resources=resources), tmp_path)
    dialog = _analyse(window, qtbot)
    assert Step.COLORIZE not in dialog.analysis.available
    box = dialog.boxes[Step.COLORIZE]
    # A grey photo, but there is no colorizer: offered, not checked, and it says why.
    assert not box.isEnabled() and not box.isChecked() and not dialog.colorize
    assert dialog.notes[Step.COLORIZE].text() == NO_MODEL == "no model installed"
    assert all(dialog.boxes[s].isEnabled() for s in (Step.DETECT, Step.INPAINT, Step.DENOISE))
    assert _run(window, dialog, qtbot) == "finished"
    assert Step.COLORIZE not in [r.step for r in restores[0].steps]
    assert not any(x.name.startswith("Colorize") for x in window.document.layers)


def test_closing_the_window_during_the_analysis_stops_it(
    photo: MainWindow, monkeypatch, thread_tracker
) -> None:
    held = _held(api.analyse_scan, at_start=True)
    monkeypatch.setattr(api, "analyse_scan", held)
    photo.act.restore_photo.trigger()
    assert held.reached.wait(10)
    assert photo.close()
    assert thread_tracker.running() == [] and photo.restore_photo.dialog is None


def test_the_colour_pins_go_to_the_colorize_step(photo: MainWindow, qtbot, monkeypatch) -> None:
    photo.document.add_pin(30, 40, (200, 150, 120))
    requests: list[api.RestoreRequest] = []
    real = api.restore

    def spy(image, request, **kwargs):  # noqa: ANN001, ANN003, ANN202
        requests.append(request)
        return real(image, request, **kwargs)

    monkeypatch.setattr(api, "restore", spy)
    dialog = _analyse(photo, qtbot)
    for step, box in dialog.boxes.items():
        box.setChecked(step is Step.COLORIZE)
    assert _run(photo, dialog, qtbot) == "finished"
    (request,) = requests
    assert request.hints == (api.ColourHint(30, 40, (200, 150, 120)),)
    # The tiny colorizer takes no hints: the photo is coloured all the same, and says so.
    assert "pins ignored" in photo.document.layers[-1].name
