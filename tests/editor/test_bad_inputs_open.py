"""Issue 24: the generated corpus of bad and awkward inputs (tests/engine/bad_corpus.py)
through the editor's open path, `editor.files.read_document` (what File → Open, a drop and
the command line run on the worker thread).

A bad file is an engine error whose reason, as the message box says it
(`editor.worker.plain_reason`), is one plain sentence; the 843 KB PNG of 17000×17000
zeros is refused from its header, in well under a second. An awkward one opens as a
document of its upright pixels, depth and alpha.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from editor.files import read_document
from editor.worker import plain_reason
from engine import api
from tests.engine.bad_corpus import BAD_NAMES, GOOD_NAMES, bad_files, good_files

BAD, GOOD = BAD_NAMES, GOOD_NAMES


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return bad_files(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return good_files(tmp_path_factory.mktemp("good"))


@pytest.mark.parametrize("name", BAD)
def test_opening_a_bad_file_says_why_in_one_plain_sentence(bad, name):
    case = bad[name]
    started = time.monotonic()
    with pytest.raises(api.EngineError) as info:
        read_document(case.path)
    assert isinstance(info.value, case.refused)
    assert time.monotonic() - started < 5
    reason = plain_reason(info.value)
    assert "\n" not in reason and "Traceback" not in reason and "Error" not in reason
    assert reason[0].isupper() and reason.endswith(".") and str(case.path) not in reason
    if name == "bomb.png":
        assert "17000x17000" in reason and "1/8 of the limit" in reason


@pytest.mark.parametrize("name", GOOD)
def test_opening_an_awkward_file_gives_its_upright_picture(good, name):
    case = good[name]
    document = read_document(case.path)
    np.testing.assert_array_equal(document.original.pixels, case.pixels)
    assert document.bit_depth == case.depth and document.path == case.path
    if case.alpha is None:
        assert document.alpha is None
    else:
        np.testing.assert_array_equal(document.alpha, case.alpha)
