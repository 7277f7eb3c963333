"""The parts of the grader's isolation that need no sandbox: the chapter view, output names, how a private
case failed, and the bubblewrap command line."""
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from course_lib.grading import bwrap
from course_lib.grading.chapter_view import build_view, stub_source, targets_for
from course_lib.grading.grader import private_how
from course_lib.grading.plain import to_plain
from course_lib.grading.registry import Case, all_exercises, get_exercise
from course_lib.grading.report import file_stem, file_stems


# ----------------------------------------------------------------------------- the chapter view
def test_the_view_stubs_this_chapters_answers_and_later_ones_only():
    dotted = {t.dotted for t in targets_for("02", all_exercises())}
    assert {"course_lib.differencing.difference", "course_lib.differencing.inverse_difference",
            "course_lib.indicators.rsi", "course_lib.windows.make_windows"} <= dotted
    assert "course_lib.differencing.log_returns" not in dotted and "course_lib.stats.autocorrelation" not in dotted
    # a re-export (course_lib.evaluation:mase) is stubbed where it is defined
    assert "course_lib.evaluation.metrics.mase" in {t.dotted for t in targets_for("06", all_exercises())}


def test_stub_source_keeps_signature_and_docstring_and_stubs_classes():
    source = ('def keep(x):\n    return x\n\n'
              'def answer(x, lag=1):\n    """rho_k = ..."""\n    return 42\n\n'
              'class Model:\n    def forward(self, x):\n        return x\n')
    stubbed = stub_source(source, "course_lib.demo", {"answer", "Model"}, "03")
    namespace = {}
    exec(stubbed.replace("__import__('course_lib._not_available', fromlist=['x']).not_available",
                         "(lambda name, chapter: (_ for _ in ()).throw(RuntimeError(name + ' ' + chapter)))"), namespace)
    assert namespace["keep"](5) == 5 and namespace["answer"].__doc__ == "rho_k = ..."
    with pytest.raises(RuntimeError, match="course_lib.demo.answer 03"):
        namespace["answer"](1)
    with pytest.raises(RuntimeError, match="course_lib.demo.Model 03"):
        namespace["Model"]()
    with pytest.raises(ValueError, match="no definition of missing"):
        stub_source(source, "course_lib.demo", {"missing"}, "03")


def test_a_built_view_has_stubs_earlier_tools_and_no_grader(tmp_path):
    build_view("02", all_exercises(), tmp_path)
    package = tmp_path / "course_lib"
    assert not list(package.rglob("*.pyc")) and not (package / "grading" / "ch00.py").exists()
    assert sorted(p.name for p in (package / "grading").iterdir()) == ["__init__.py", "plain.py", "worker.py"]
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import numpy as np, pandas as pd\n"
            "from course_lib import differencing\n"
            "from course_lib.grading import check\n"
            "print(differencing.log_returns(pd.Series([1.0, 2.0])).round(4).tolist())\n"
            "check('02.1', print)\n"
            "differencing.difference(np.arange(4.0), 1)\n")
    result = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.stdout == "[0.6931]\n"
    assert result.stderr.strip().endswith("NotAvailableWhileGrading: course_lib.differencing.difference is not "
                                          "available while grading chapter 02 — write your own")


# ----------------------------------------------------------------------------- output names
def test_output_names_are_unique_readable_and_inside_the_folder():
    nfc, nfd = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    names = ["김철수", "이영희", "Casey", "casey", nfc, nfd, "../../etc/passwd", "a" * 300, "alice"]
    stems = file_stems(names)
    assert stems["김철수"] == "김철수" and stems["이영희"] == "이영희" and stems["alice"] == "alice"
    assert stems["Casey"] != stems["casey"] and stems["Casey"].startswith("Casey-")
    assert stems[nfc] != stems[nfd] and stems[nfc].startswith(nfc + "-")
    assert "/" not in stems["../../etc/passwd"] and not stems["../../etc/passwd"].startswith(".")
    assert len(stems["a" * 300]) == 80
    assert len({s.casefold() for s in stems.values()}) == len(names)  # unique on a case-insensitive disk
    assert file_stem("") == "_"


# ----------------------------------------------------------------------------- private feedback
@pytest.mark.parametrize("expected, outcome, how", [
    (1.5, {"value": 2.5}, "wrong value"),
    (1.5, {"value": to_plain(np.zeros(2))}, "wrong type of result"),
    (np.zeros(3), {"value": to_plain(np.zeros(4))}, "wrong shape"),
    (np.zeros(3), {"value": to_plain(np.ones(3))}, "wrong values"),
    ((np.zeros(2), 1.0), {"value": to_plain((np.zeros(2), 2.0))}, "item 1: wrong value"),
    (1.0, {"raised": ["ValueError", "Exception"], "error": "secret input 0.123"}, "raised ValueError"),
    (1.0, {"raised": ["Secret0_123Error", "Exception"], "error": ""}, "raised an exception"),
    (1.0, {"returned": "an object of type Secret"}, "returned something that is not plain data"),
])
def test_a_private_failure_says_how_without_inputs_or_expected(expected, outcome, how):
    exercise = get_exercise("00.3")
    assert private_how(Case("secret"), to_plain(expected), outcome, exercise) == how


# ----------------------------------------------------------------------------- the sandbox's command line
def test_the_bubblewrap_command_holds_every_isolation_option(tmp_path):
    if bwrap.find_bwrap() is None:
        pytest.skip("bubblewrap is not installed")
    mounts = bwrap.Mounts(("/opt/python",), str(tmp_path), str(tmp_path / "stage"))
    launch = bwrap.sandbox_launch(mounts, bwrap.rlimits(512, 64, 10**6, 256, 60), 2**20, ["--probe"], {"A": "1"}, ())
    argv = launch.argv[launch.argv.index(bwrap.find_bwrap()):]
    joined = " ".join(argv)
    for option in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv",
                   "--size 1048576 --tmpfs /tmp", "--remount-ro / ", "--proc /proc", "--dev /dev"):
        assert option in joined
    assert "--share-net" not in argv and "--bind" not in argv  # nothing writable from the host
    assert argv.index("--remount-ro") > max(i for i, a in enumerate(argv) if a in ("--ro-bind", "--tmpfs"))
