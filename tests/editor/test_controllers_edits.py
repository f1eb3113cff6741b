"""The edit and task controllers without a window: a fake host, a real History, a real
job runner and document; the engine replaced by small fakes."""

from __future__ import annotations

import numpy as np
import pytest
from editor_support import FakeHost

from editor.doc import Document
from editor.editing import EditController
from editor.history import History
from editor.jobs import Job, JobRunner
from editor.tasks import TaskController
from engine import api

TIMEOUT_MS = 10000


@pytest.fixture
def parts(qtbot):  # noqa: ANN001, ANN201
    pixels = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    host = FakeHost(Document(pixels))
    history = History()
    runner = JobRunner(host)
    edits = EditController(host, history)
    tasks = TaskController(host, runner, edits)
    return host, history, runner, edits, tasks


def test_a_stroke_is_one_step_and_undo_is_off_meanwhile(parts) -> None:  # noqa: ANN001
    host, history, _runner, edits, _tasks = parts
    edits.stroke_started(False)
    assert not host.history_enabled
    edits.stroke_segment(2, 2, 2, 2)  # the press: the stroke starts here
    edits.stroke_segment(2, 2, 20, 2)
    edits.stroke_finished()
    assert host.history_enabled and history.count() == 1
    assert host.document.mask[2, 10] == 255  # radius 3 (the host's brush), hard
    history.undo()
    assert not host.document.mask.any()


def test_a_refused_edit_is_a_status_message_not_a_step(parts) -> None:  # noqa: ANN001
    host, history, _runner, edits, _tasks = parts
    edits.delete(host.document.layers[0].id)  # the original cannot be deleted
    assert history.count() == 0 and host.messages


def test_a_result_is_one_step_and_selected(parts) -> None:  # noqa: ANN001
    host, history, _runner, edits, _tasks = parts
    pixels = np.zeros(host.document.shape, np.uint8)
    edits.add_result(pixels, "Denoise (auto, 100%)", None, clear_mask=False)
    assert history.count() == 1 and history.text(0) == "Denoise (auto, 100%)"
    assert host.layers_panel.selected == host.document.layers[1].id


def test_denoise_runs_through_the_runner(parts, qtbot, monkeypatch) -> None:  # noqa: ANN001
    host, history, runner, _edits, tasks = parts
    seen: list[dict] = []

    def denoise(image, **kwargs):  # noqa: ANN001, ANN202
        seen.append(kwargs)
        kwargs["progress"](api.Progress("denoise", 1, 1))
        return 255 - image

    monkeypatch.setattr(api, "denoise", denoise)
    with qtbot.waitSignal(tasks.ended, timeout=TIMEOUT_MS) as ended:
        assert tasks.run_denoise()
        assert runner.busy and not tasks.run_colorize()  # one job at a time
    assert ended.args == ["finished"] and not runner.busy
    assert seen[0]["options"] is host.options and seen[0]["strength"] == 1.0
    assert [layer.name for layer in host.document.layers] == ["Original", "Denoise (100%)"]
    assert history.count() == 1


def test_an_inpaint_layer_holds_only_the_pixels_the_engine_changed(
    parts,
    qtbot,
    monkeypatch,  # noqa: ANN001
) -> None:
    host, history, _runner, edits, tasks = parts
    document = host.document
    original = document.composite()

    def inpaint(image, holes, **_):  # noqa: ANN001, ANN202
        out = image.copy()
        out[holes] = 128  # the holes, and a seam just around them
        out[4:5, 4:12] = 7
        return out

    monkeypatch.setattr(api, "inpaint", inpaint)
    holes = np.zeros(document.shape[:2], bool)
    holes[5:8, 5:10] = True
    edits.add_to_mask(holes, "Paint mask")
    with qtbot.waitSignal(tasks.ended, timeout=TIMEOUT_MS) as ended:
        assert tasks.run_inpaint()
    assert ended.args == ["finished"]
    layer = document.layers[-1]
    changed = np.any(inpaint(original, holes) != original, axis=2)
    assert np.array_equal(layer.coverage, changed.astype(np.uint8) * 255)
    assert document.mask_is_empty() and history.text(history.count() - 1) == "Inpaint"
    # Hiding the layer shows what lies beneath it again: here, the original.
    edits.set_visible(layer.id, False)
    assert np.array_equal(document.composite(), original)


def test_a_task_waits_for_a_file_job(parts) -> None:  # noqa: ANN001
    host, _history, runner, _edits, tasks = parts
    assert runner.start(Job("Saving", lambda p, c: None, lambda _: None, cancellable=False))
    assert not tasks.run_denoise() and not tasks.detect_damage()
    assert host.messages[-1] == "Wait for saving to finish."
    runner.wait()
    assert not runner.busy


def test_auto_detect_calls_the_damage_detector_and_adds_its_mask_as_one_step(
    parts,
    qtbot,
    monkeypatch,  # noqa: ANN001
) -> None:
    host, history, runner, edits, tasks = parts
    host.tools_panel.sensitivity_fraction = 0.7
    edits.add_to_mask(np.pad(np.ones((2, 2), bool), ((0, 22), (0, 30))), "Paint")
    seen: list[tuple[np.ndarray, dict]] = []
    reports: list[api.Progress] = []
    runner.progress.connect(reports.append)

    def detect_damage(image, **kwargs):  # noqa: ANN001, ANN202
        seen.append((image, kwargs))
        kwargs["progress"](api.Progress("detect", 1, 1))
        found = np.zeros(image.shape[:2], bool)
        found[10:12, 4:28] = True
        return found

    # raising=False: the engine may not have it yet; the editor calls it by this name.
    monkeypatch.setattr(api, "detect_damage", detect_damage, raising=False)
    with qtbot.waitSignal(tasks.ended, timeout=TIMEOUT_MS) as ended:
        assert tasks.detect_damage()
    assert ended.args == ["finished"]
    image, kwargs = seen[0]
    assert np.array_equal(image, host.document.composite())
    assert kwargs["sensitivity"] == 0.7 and kwargs["options"] is host.options
    assert isinstance(kwargs["cancel"], api.CancelToken) and reports
    mask = host.document.mask
    assert mask[11, 10] == 255 and mask[0, 0] == 255 and mask[20, 10] == 0  # added to
    assert history.count() == 2 and history.text(1) == "Auto-detect damage"
    assert host.messages[-1].startswith("Auto-detect marked ")
    history.undo()
    assert host.document.mask[11, 10] == 0 and host.document.mask[0, 0] == 255


def test_auto_detect_finding_nothing_changes_nothing(parts, qtbot, monkeypatch) -> None:  # noqa: ANN001
    host, history, _runner, _edits, tasks = parts
    monkeypatch.setattr(
        api, "detect_damage", lambda image, **_: np.zeros(image.shape[:2], bool), raising=False
    )
    with qtbot.waitSignal(tasks.ended, timeout=TIMEOUT_MS):
        assert tasks.detect_damage()
    assert history.count() == 0 and not host.document.mask.any()
    # The last word: not overwritten by a plain "done".
    assert host.messages[-1] == "No damage found; try a higher sensitivity."
