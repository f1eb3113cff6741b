"""The job runner on its own: one busy state, progress as engine Progress values, cancel,
errors reported once, quiet jobs (autosave), waiting and shutting down. No window."""

from __future__ import annotations

import threading

import pytest
from editor_support import FakeHost

from editor.jobs import Job, JobProgress, JobRunner
from engine import api

TIMEOUT_MS = 10000


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def runner(qtbot, host: FakeHost) -> JobRunner:  # noqa: ANN001
    return JobRunner(host)


def _held(gate: threading.Event, result: object = "done"):  # noqa: ANN202
    def work(progress, cancel):  # noqa: ANN001, ANN202
        while not gate.wait(0.005):
            if cancel.cancelled:
                raise api.Cancelled("stopped")
        return result

    return work


def test_one_job_at_a_time_with_progress_and_a_result(runner: JobRunner, host, qtbot) -> None:
    results: list[object] = []
    reports: list[api.Progress] = []
    runner.progress.connect(reports.append)
    progress = JobProgress(runner)
    qtbot.addWidget(progress)

    def work(report, cancel):  # noqa: ANN001, ANN202
        for done in range(1, 5):
            report(api.Progress("denoise", done, 4, tile_size=256))
        return 42

    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS) as ended:
        assert runner.start(Job("Denoise", work, results.append))
        assert runner.busy and runner.running is not None
        assert not progress.isHidden() and not progress.cancel_button.isHidden()
        # A second job is refused, saying why.
        assert not runner.start(Job("Colorize", work, results.append))
        assert host.messages[-1] == "Denoise is still running: wait for it to finish or cancel it."
    assert ended.args[1] == "finished" and results == [42]
    assert not runner.busy and not runner.active
    assert [r.done for r in reports] == [1, 2, 3, 4] and reports[-1].tile_size == 256
    assert progress.bar.value() == 1000


def test_cancel_and_failures_are_handled_once(runner: JobRunner, qtbot, dialogs) -> None:
    gate = threading.Event()
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS) as ended:
        runner.start(Job("Denoise", _held(gate), lambda _: pytest.fail("applied")))
        runner.cancel()
        assert runner.cancel_requested
    assert ended.args[1] == "cancelled" and dialogs.errors == []

    def broken(progress, cancel):  # noqa: ANN001, ANN202
        raise api.OutOfMemory("denoise: the device ran out of memory")

    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS) as ended:
        runner.start(Job("Denoise", broken, lambda _: None))
    assert ended.args[1] == "failed"
    ((title, text, detail),) = dialogs.errors
    assert title == "Denoise failed" and "ran out of memory" in text
    assert detail == "OutOfMemory: denoise: the device ran out of memory"


def test_a_quiet_job_is_not_busy_and_a_job_asked_meanwhile_follows_it(
    runner: JobRunner, qtbot
) -> None:
    gate = threading.Event()
    order: list[str] = []
    assert runner.start(
        Job("Autosave", _held(gate), lambda _: order.append("autosave"), quiet=True)
    )
    assert runner.active and not runner.busy
    assert not runner.start(Job("Autosave", _held(gate), order.append, quiet=True))  # skipped
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        assert runner.start(Job("Saving", lambda p, c: "saved", order.append))
        assert runner.busy and runner.running.title == "Saving"  # busy from the start
        gate.set()
    assert order == ["autosave", "saved"] and not runner.active


def test_wait_applies_the_outcome_now_and_shutdown_stops_everything(
    runner: JobRunner, thread_tracker
) -> None:
    results: list[object] = []
    assert runner.start(Job("Opening", lambda p, c: "document", results.append))
    runner.wait()
    assert results == ["document"] and not runner.busy
    gate = threading.Event()
    runner.start(Job("Denoise", _held(gate), results.append))
    runner.shutdown()
    assert not runner.active and thread_tracker.running() == [] and results == ["document"]


def test_a_job_run_at_once_goes_through_the_same_outcomes(runner: JobRunner, dialogs) -> None:
    results: list[object] = []
    assert runner.start(Job("Saving", lambda p, c: 7, results.append), wait=True)
    failures: list[BaseException] = []

    def broken(progress, cancel):  # noqa: ANN001, ANN202
        raise OSError("disk full")

    runner.start(Job("Saving", broken, results.append, failed=failures.append), wait=True)
    assert results == [7] and isinstance(failures[0], OSError) and dialogs.errors == []


def test_a_running_worker_is_seen_by_the_teardown_check(runner: JobRunner) -> None:
    from editor.worker import running_workers

    gate = threading.Event()
    runner.start(Job("Denoise", _held(gate), lambda _: None))
    assert [worker.title for worker in running_workers()] == ["Denoise"]
    gate.set()
    runner.wait()
    assert running_workers() == []
