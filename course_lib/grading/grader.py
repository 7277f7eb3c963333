"""Grading a cohort: find the submissions, run each (student, chapter) in its own sandbox, score in this process.

Scores are decided here, in a process that never executes student code: cases and expected
values come from the registry (plus the instructor's private checks); the sandboxed worker only
reports what the student's functions returned, as plain data, which is validated and then
compared type-strictly. Inside the sandbox ``course_lib`` is the chapter view
(:mod:`chapter_view`): the course's own answers to the chapter being graded raise a clear error.
Feedback on a private case says which case failed and how (wrong shape, wrong values, an error's
type) but never its inputs or expected values. Each result records the grader version and a hash
of the checks.
"""
from __future__ import annotations

import builtins
import hashlib
import importlib.util
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from course_lib import __version__ as COURSE_VERSION
from course_lib.grading import submission
from course_lib.grading.bwrap import SandboxUnavailable, make_stage, python_roots, write_etc
from course_lib.grading.chapter_view import build_view
from course_lib.grading.check import brief, expected_outcome, judge_case
from course_lib.grading.plain import DTYPE_WORDS, InvalidPlainData, compare, dtype_fits, validate_plain
from course_lib.grading.registry import Case, Exercise, all_exercises
from course_lib.grading.sandbox import (MEMORY, OUTPUT, Isolation, Limits, NotebookRun, check_sandbox, interrupt,
                                       reset_interrupt, run_submission)

GRADER_VERSION = f"{COURSE_VERSION}+grader.3"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
SCRATCH = re.compile(r"/tmp/grading-[^/\s'\"]+")
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, BaseException)} | {"NotAvailableWhileGrading"}
MISSING = {"raised": ["Missing"], "error": "no result"}


# ----------------------------------------------------------------------------- what is graded
@dataclass
class GradedExercise:
    """One exercise to grade: its public then private cases, built once, and each case's expected outcome."""

    exercise: Exercise
    cases: list[Case]
    n_public: int
    expected: list

    @classmethod
    def build(cls, exercise: Exercise, private_cases: list[Case]) -> GradedExercise:
        cases = exercise.cases() + list(private_cases)
        n_public = len(cases) - len(private_cases)
        if exercise.judge is not None:   # a checklist item: judged on all its outcomes, no expected values
            return cls(exercise, cases, n_public, [None] * len(cases))
        return cls(exercise, cases, n_public, [expected_outcome(exercise, case) for case in cases])


@dataclass
class CheckSet:
    """The exercises to grade, by id, and a hash of the checks behind them."""

    items: dict[str, GradedExercise]
    checks_hash: str
    registered: dict[str, Exercise] = field(default_factory=dict)   # every exercise known, for the chapter views


def load_private_checks(folder: Path | None) -> tuple[dict[str, list[Case]], list[Exercise], list[Path]]:
    """Read ``*.py`` files of an instructor's folder: ``PRIVATE_CASES = {"00.1": [Case(...), ...]}``
    (a list or a function returning one) and optionally ``EXERCISES = [Exercise(...)]`` for new exercises."""
    cases: dict[str, list[Case]] = {}
    extra: list[Exercise] = []
    files = sorted(Path(folder).glob("*.py")) if folder else []
    if folder and not Path(folder).is_dir():
        raise FileNotFoundError(f"checks folder {folder} does not exist")
    for path in files:
        spec = importlib.util.spec_from_file_location(f"private_checks_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise_id, found in getattr(module, "PRIVATE_CASES", {}).items():
            cases.setdefault(exercise_id, []).extend(found() if callable(found) else found)
        extra.extend(getattr(module, "EXERCISES", []))
    return cases, extra, files


def checks_hash(files: list[Path]) -> str:
    """SHA-256 of the grading code and every check: the registry's chapter modules and private files."""
    package = Path(__file__).resolve().parent
    sources = sorted(package.glob("ch*.py")) + [package / n for n in ("registry.py", "plain.py", "check.py")]
    digest = hashlib.sha256()
    for path in [*sources, *files]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_check_set(chapters: set[str], checks_dir: Path | None = None) -> CheckSet:
    private, extra, files = load_private_checks(checks_dir)
    exercises = dict(all_exercises())
    for exercise in extra:
        exercises[exercise.id] = exercise
    unknown = sorted(set(private) - set(exercises))
    if unknown:
        raise ValueError(f"private checks name unknown exercises: {', '.join(unknown)}")
    chosen = {i: GradedExercise.build(e, private.get(i, [])) for i, e in exercises.items() if e.chapter in chapters}
    return CheckSet(chosen, checks_hash(files), exercises)


# ----------------------------------------------------------------------------- submissions
def discover(submissions: Path) -> dict[str, list[Path]]:
    """Student name -> notebooks: ``<student>.ipynb`` entries and ``<student>/`` folders of notebooks.

    Nothing is opened here and no symbolic link is followed (``lstat`` only): a symlink, FIFO, socket or
    device is listed like a notebook under its own name, so that reading it fails with a reason in that
    student's row (see :func:`submission.read_bytes`) and the rest of the batch goes on.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {submissions} does not exist")
    found: dict[str, list[Path]] = {}
    for entry in sorted(os.scandir(submissions), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        real_dir = entry.is_dir(follow_symlinks=False)
        if entry.name.endswith(".ipynb") and len(entry.name) > len(".ipynb"):
            found.setdefault(entry.name[: -len(".ipynb")], []).append(path)
        elif real_dir:
            found.setdefault(entry.name, []).extend(_folder_notebooks(path))
        elif not entry.is_file(follow_symlinks=False):  # a symlink, FIFO, socket, device: a row saying so
            found.setdefault(entry.name, []).append(path)
    return found


def _folder_notebooks(folder: Path) -> list[Path]:
    """The ``*.ipynb`` entries under a student's folder, not following symbolic links, checkpoints left out."""
    notebooks = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and not d.startswith("."))
        notebooks += [Path(root) / name for name in files if name.endswith(".ipynb")]
        notebooks += [Path(root) / name for name in dirs if name.endswith(".ipynb")]  # a folder named x.ipynb: a row
    return sorted(set(notebooks))


def parse_all(found: dict[str, list[Path]]) -> dict[Path, object]:
    """Each submitted path, read and parsed once: a :class:`submission.Notebook` or the reason it cannot be read."""
    parsed: dict[Path, object] = {}
    for paths in found.values():
        for path in paths:
            parsed[path] = _parse(path)
    return parsed


def _parse(path: Path):
    try:
        return submission.read_notebook(path)
    except submission.InvalidNotebook as err:
        return str(err)
    except (OSError, ValueError, RecursionError, MemoryError) as err:
        return f"cannot be read ({type(err).__name__}: {_clean(str(err))[:200]})"


def chapters_in(found: dict[str, list[Path]], parsed: dict[Path, object] | None = None) -> set[str]:
    """Chapters that any readable submitted notebook answers."""
    parsed = parse_all(found) if parsed is None else parsed
    chapters = set()
    for paths in found.values():
        for path in paths:
            notebook = parsed.get(path)
            if isinstance(notebook, submission.Notebook):
                chapters |= notebook.chapters
    return chapters


# ----------------------------------------------------------------------------- grading one student
@dataclass
class ExerciseResult:
    exercise: str
    points: int
    max_points: int
    status: str
    notebook: str | None = None
    cases: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class StudentResult:
    student: str
    exercises: list[ExerciseResult]
    notebooks: list[dict]
    review: list[str]


def _clean(text: str) -> str:
    """Remove what differs between runs (addresses, scratch paths) from a message."""
    return SCRATCH.sub("<scratch>", ADDRESS.sub("0x...", text))


def _failure_status(kind: str, detail: str) -> str:
    return f"{kind}: {_clean(detail)}"


def grade_student(name: str, paths: list[Path], checks: CheckSet, limits: Limits,
                  isolations: dict[str, Isolation], parsed: dict[Path, object] | None = None,
                  chapter_limits: dict[str, Limits] | None = None) -> StudentResult:
    """Grade one student: each chapter's notebooks run in a sandbox of their own, with that chapter's view."""
    notebooks, readable, invalid, records = [], [], [], {}
    for path in paths:
        notebook = parsed[path] if parsed is not None and path in parsed else _parse(path)
        record = {"file": _clean(path.name)}
        records[path] = record
        if isinstance(notebook, submission.Notebook):
            record["sha256"] = notebook.sha256
            readable.append(notebook)
            record["syntax_errors"] = {str(k + 1): v for k, v in notebook.syntax_errors.items()}
        else:
            invalid.append(f"{_clean(path.name)}: {notebook}")
            record["invalid"] = notebook
        notebooks.append(record)
    owners = _assign(readable, checks)
    results, review = {}, []
    for notebook in readable:
        review += [f"{notebook.path.name}, {finding}" for finding in submission.suspicious_constructs(notebook)]
    for exercise_id, notebook in sorted(owners.items()):
        used = submission.reference_uses(notebook, checks.items[exercise_id].exercise)
        if used:
            review.append(f"{notebook.path.name}, exercise {exercise_id}: the answer refers to the course's own "
                          f"implementation {', '.join(used)} (it raises while grading)")
    deadline = time.monotonic() + limits.submission_seconds
    collected = {path: {"cell_errors": {}, "cell_failures": {}, "worker_restarts": 0} for path in records}
    for chapter in sorted({checks.items[i].exercise.chapter for i in owners}):
        graded = []
        for notebook in readable:
            mine = [i for i, owner in owners.items() if owner is notebook and checks.items[i].exercise.chapter == chapter]
            if mine:
                graded.append((notebook, mine))
        jobs = [(notebook.cells, [_exercise_job(checks.items[i]) for i in mine]) for notebook, mine in graded]
        runs = run_submission(jobs, (chapter_limits or {}).get(chapter, limits), isolations[chapter], deadline)
        for (notebook, mine), run in zip(graded, runs):
            found = collected[notebook.path]
            found["cell_errors"].update({k + 1: _clean(v) for k, v in run.cell_errors.items()})
            found["cell_failures"].update({k + 1: _failure_status(f.kind, f.detail) for k, f in run.cell_failures.items()})
            found["worker_restarts"] += run.restarts
            for exercise_id in mine:
                results[exercise_id] = _score(exercise_id, notebook, run, checks)
    for path, record in records.items():
        if any(nb.path == path for nb in readable) and any(owner.path == path for owner in owners.values()):
            found = collected[path]
            record["cell_errors"] = {str(k): v for k, v in sorted(found["cell_errors"].items())}
            record["cell_failures"] = {str(k): v for k, v in sorted(found["cell_failures"].items())}
            record["worker_restarts"] = found["worker_restarts"]
    for exercise_id, item in checks.items.items():
        if exercise_id not in results:
            results[exercise_id] = _missing(item.exercise, paths, readable, invalid)
    ordered = [results[i] for i in sorted(results)]
    for notebook in readable:  # syntax trees can be large (a huge literal): free them with the student
        notebook._trees = None
    return StudentResult(name, ordered, notebooks, review)


def _exercise_job(item: GradedExercise) -> dict:
    """What the sandbox gets for one exercise: the function's name and the cases' inputs, nothing else."""
    inputs = [(case.args, case.kwargs, case.global_seed) for case in item.cases]
    return {"id": item.exercise.id, "function": item.exercise.function,
            "public": inputs[:item.n_public], "private": inputs[item.n_public:],
            "seconds": getattr(item.exercise, "time_limit_s", None)}


def _assign(readable: list[submission.Notebook], checks: CheckSet) -> dict:
    """Exercise id -> the notebook graded for it: the first notebook (by name) defining the function,
    preferring one that belongs to the exercise's chapter."""
    owners = {}
    for exercise_id, item in checks.items.items():
        candidates = [nb for nb in readable if item.exercise.function in nb.defined_functions()]
        same_chapter = [nb for nb in candidates if item.exercise.chapter in nb.chapters]
        chosen = (same_chapter or candidates or [None])[0]
        if chosen is not None:
            owners[exercise_id] = chosen
    return owners


def _missing(exercise: Exercise, paths, readable, invalid) -> ExerciseResult:
    if not paths:
        status = "not found: no notebook submitted"
    elif invalid and not readable:
        status = "invalid notebook: " + "; ".join(invalid)
    else:
        status = f"not found: no function named {exercise.function}"
        if invalid:
            status += " (unreadable: " + "; ".join(invalid) + ")"
    return ExerciseResult(exercise.id, 0, exercise.points, status)


def _score(exercise_id: str, notebook: submission.Notebook, run: NotebookRun, checks: CheckSet) -> ExerciseResult:
    item = checks.items[exercise_id]
    exercise = item.exercise
    result = ExerciseResult(exercise_id, 0, exercise.points, "", notebook.path.name)
    count = notebook.defined_functions().get(exercise.function, 0)
    if count > 1:
        result.notes.append(f"{exercise.function} is defined {count} times; the last definition run was graded")
    report = run.exercises.get(exercise_id)
    if report is None:
        failure = run.exercise_failures[exercise_id]
        result.status = _failure_status(failure.kind, failure.detail)
        return result
    if not report.get("found"):
        errors = "; ".join(f"code cell {k + 1}: {_clean(v)}" for k, v in sorted(run.cell_errors.items())[:2])
        result.status = f"not found: {exercise.function} is not defined after running the notebook" + \
                        (f" ({errors})" if errors else "")
        return result
    public = report["public"].get("outcomes")
    private = report.get("private", {}).get("outcomes", [])
    n_private = len(item.cases) - item.n_public
    if not _well_formed(public, item.n_public) or not _well_formed(private, n_private):
        result.status = "crashed: the worker sent a malformed result"
        return result
    if any(o.get("not_implemented") for o in public):
        result.status = "not implemented"
        return result
    private = [{"raised": ["NotImplementedError"], "error": ""} if o.get("not_implemented") else o for o in private]
    outcomes = public + [MISSING] * (item.n_public - len(public)) + private + [MISSING] * (n_private - len(private))
    result.cases, first_failure = _judge(item, outcomes)
    if first_failure is None:
        result.points, result.status = exercise.points, "ok"
    else:
        result.status = first_failure
    return result


def _well_formed(outcomes, n_cases: int) -> bool:
    return isinstance(outcomes, list) and len(outcomes) <= n_cases and all(isinstance(o, dict) for o in outcomes)


def _judge(item: GradedExercise, outcomes: list[dict]) -> tuple[list[dict], str | None]:
    """Each case's record (as in results.json) and the exercise's status line, or ``None`` when every case passed.

    The status names the failing case that check() lists first: a resource limit, else a public case with a
    hint of its own, else any public case, else a private one. A private case's record and status say how it
    failed (:func:`private_how`), never its inputs or expected value.
    """
    exercise, cases, failures = item.exercise, [], []
    if exercise.judge is not None:   # a checklist item: one verdict on all public outcomes
        from course_lib.grading.check import judged_verdict
        try:
            for outcome in outcomes:
                _validate_outcome(outcome)
            passed, reason = judged_verdict(exercise, outcomes[:item.n_public])
        except InvalidPlainData as err:
            passed, reason = False, f"the result is not plain data ({err})"
        reason = _clean(reason)
        cases.append({"name": exercise.title, "private": False, "passed": passed, "message": reason,
                      "hint": "" if passed else exercise.hint, "own_hint": False})
        return cases, None if passed else f"failed the checklist item {exercise.title!r}: {brief(reason, 300)}"
    for position, (case, want) in enumerate(zip(item.cases, item.expected)):
        private = position >= item.n_public
        outcome = outcomes[position]
        try:
            _validate_outcome(outcome)
            judged = judge_case(exercise, case, want, outcome)
            passed, message = judged.passed, _clean(judged.message)
            how = "" if passed else private_how(case, want, outcome, exercise)
        except InvalidPlainData as err:
            passed, message, how = False, f"the result is not plain data ({err})", "sent a result that is not plain data"
        cases.append({"name": case.name, "private": private, "passed": passed,
                      "message": how if private else message,
                      "hint": "" if private or passed else (case.hint or exercise.hint),
                      "own_hint": bool(case.hint) and not private and not passed})
        if passed:
            continue
        raised = outcome.get("raised") or []
        if "MemoryError" in raised:
            failures.append((0, f"{MEMORY}: case {case.name!r} ran out of memory"))
        elif "File too large" in str(outcome.get("error", "")):
            failures.append((0, f"{OUTPUT}: case {case.name!r} printed too much"))
        elif private:
            failures.append((3, f"failed a private check {case.name!r}: {how}"))
        else:
            failures.append((1 if case.hint else 2, f"failed case {case.name!r}: {brief(message, 300)}"))
    first = min(failures, key=lambda f: f[0], default=None)  # min keeps the earliest case among equal ranks
    return cases, first[1] if first else None


def private_how(case: Case, expected, outcome: dict, exercise: Exercise) -> str:
    """How an answer failed a private case, in words that show neither the case's inputs nor its expected value."""
    raised = outcome.get("raised")
    if raised:
        name = raised[0] if raised[0] in BUILTIN_ERRORS else "an exception"
        return f"raised the wrong kind of error ({name})" if case.raises else f"raised {name}"
    if outcome.get("returned") is not None:
        return "returned something that is not plain data"
    if case.raises:
        return "returned a value where an error was expected"
    return _difference(expected, outcome["value"], exercise.rtol, exercise.atol)


def _difference(expected, got, rtol: float, atol: float) -> str:
    """The kind of the first difference between two plain values: wrong type, shape, index, values."""
    numbers = (int, float)
    if type(expected) in numbers or not isinstance(expected, dict):
        same_kind = type(got) in numbers if type(expected) in numbers else type(got) is type(expected)
        return "wrong value" if same_kind else "wrong type of result"
    if not isinstance(got, dict) or got.get("kind") != expected["kind"]:
        return "wrong type of result"
    kind = expected["kind"]
    if kind == "array":
        if got["shape"] != expected["shape"]:
            return "wrong shape"
        return "wrong values" if dtype_fits(expected["dtype"], got["dtype"]) else \
            f"wrong kind of values ({DTYPE_WORDS[got['dtype']]} for {DTYPE_WORDS[expected['dtype']]})"
    if kind in ("series", "frame"):
        if kind == "frame" and got["columns"] != expected["columns"]:
            return "wrong columns"
        if len(got["index"]) != len(expected["index"]):
            return "wrong length"
        if got["index"] != expected["index"]:
            return "wrong index"
        return _difference(expected["values"], got["values"], rtol, atol)
    if kind == "sequence":
        if len(got["items"]) != len(expected["items"]):
            return "wrong number of items"
        for position, (want, have) in enumerate(zip(expected["items"], got["items"])):
            if compare(want, have, rtol, atol) is not None:
                return f"item {position}: {_difference(want, have, rtol, atol)}"
        return "wrong values"
    if sorted(got["items"]) != sorted(expected["items"]):
        return "wrong keys"
    return "wrong value for one of the keys"


def _validate_outcome(outcome: dict) -> None:
    if "value" in outcome:
        validate_plain(outcome["value"])
    elif "returned" in outcome:
        if not isinstance(outcome["returned"], str) or len(outcome["returned"]) > 300:
            raise InvalidPlainData("'returned' must be a short description")
    elif not (isinstance(outcome.get("raised"), list) and all(isinstance(n, str) for n in outcome["raised"])):
        raise InvalidPlainData("an outcome must hold a value, a description of what was returned, "
                               "or the names of a raised exception")


# ----------------------------------------------------------------------------- a whole cohort
def build_isolations(chapters: set[str], registered: dict[str, Exercise], folder: Path,
                     sandbox: bool) -> dict[str, Isolation]:
    """One chapter view per chapter graded, in ``folder``; with ``sandbox``, checks that bubblewrap works here."""
    stage = None
    if sandbox and os.geteuid() == 0:  # mount points the sandbox's user can reach (see bwrap.Mounts)
        os.chmod(folder, 0o711)
        (Path(folder) / "stage").mkdir()
        stage = make_stage(str(Path(folder) / "stage"), len(python_roots()) + 1)
    isolations = {}
    for chapter in sorted(chapters) or ["00"]:
        view = Path(folder) / f"chapter{chapter}"
        view.mkdir(mode=0o755)
        build_view(chapter, registered, view)
        write_etc(str(view))
        isolations[chapter] = Isolation(str(view), chapter, sandbox, stage)
    if sandbox:
        problem = check_sandbox(next(iter(isolations.values())))
        if problem:
            raise SandboxUnavailable(problem)
    return isolations


def grade_cohort(submissions: Path, checks_dir: Path | None = None, jobs: int = 1, limits: Limits = Limits(),
                 chapters: set[str] | None = None, sandbox: bool = True, calibrate: bool = False,
                 calibration_cache: Path | None = None, calibration: tuple[float, float] = (5.0, 5.0),
                 scheduler: str | None = None) -> tuple[list[StudentResult], CheckSet]:
    """Grade every submission in parallel over ``jobs`` workers; results sorted by student name.

    With ``sandbox`` (the default) student code runs in bubblewrap, and :class:`SandboxUnavailable` is
    raised when that is impossible here; ``sandbox=False`` is only for submissions you trust. With
    ``scheduler`` (a Dask scheduler's address) the students are graded on that cluster's workers instead
    (:mod:`cluster`); ``jobs`` is then the workers' business.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    found = discover(submissions)
    parsed = parse_all(found)
    chosen = chapters if chapters is not None else chapters_in(found, parsed)
    checks = build_check_set(chosen, checks_dir)
    if scheduler is not None:
        from course_lib.grading.cluster import grade_on_cluster
        return grade_on_cluster(scheduler, found, parsed, checks, limits, sandbox,
                                calibration if calibrate else None, calibration_cache), checks
    with tempfile.TemporaryDirectory(prefix="grading-views-") as folder:
        isolations = build_isolations(graded_chapters(checks), checks.registered, Path(folder), sandbox)
        reset_interrupt()
        chapter_limits = {}
        if calibrate:
            from course_lib.grading.calibrate import load_cache, save_cache
            stored = load_cache(calibration_cache)
            chapter_limits = calibrated(checks, isolations, limits, stored, calibration, jobs)
            save_cache(calibration_cache, stored)
        pool = ThreadPoolExecutor(max_workers=jobs)
        futures = {name: pool.submit(grade_student, name, paths, checks, limits, isolations, parsed, chapter_limits)
                   for name, paths in found.items()}
        try:
            wait(list(futures.values()))
        except KeyboardInterrupt:  # Ctrl-C: kill every sandbox now, report who was not graded
            interrupt()
            pool.shutdown(wait=True, cancel_futures=True)
            not_graded = sorted(n for n, f in futures.items() if f.cancelled() or f.exception() is not None)
            raise CohortInterrupted(not_graded) from None
        pool.shutdown(wait=True)
        results = [result_or_error(name, futures[name], checks) for name in sorted(futures)]
    return results, checks


def graded_chapters(checks: CheckSet) -> set[str]:
    return {item.exercise.chapter for item in checks.items.values()}


def calibrated(checks: CheckSet, isolations: dict[str, Isolation], limits: Limits, stored: dict,
               calibration: tuple[float, float], jobs: int = 1) -> dict[str, Limits]:
    """Per-chapter limits from the reference solutions' timings (see :mod:`calibrate`); ``stored`` is the cache."""
    from course_lib.grading.calibrate import calibrated_limits

    chapters: dict[str, list[dict]] = {}
    for exercise_id, item in sorted(checks.items.items()):
        chapters.setdefault(item.exercise.chapter, []).append(_exercise_job(item))
    key = f"{GRADER_VERSION}\0{checks.checks_hash}\0{limits}"
    factor, floor = calibration
    return calibrated_limits({c: j for c, j in chapters.items() if c in isolations}, isolations, limits, key, stored,
                             factor, floor, jobs)


class CohortInterrupted(Exception):
    """Grading was interrupted (Ctrl-C); ``not_graded`` names the students without a grade."""

    def __init__(self, not_graded: list[str]):
        super().__init__(f"interrupted; {len(not_graded)} student(s) not graded")
        self.not_graded = not_graded


def result_or_error(name: str, future, checks: CheckSet) -> StudentResult:
    """A failure of the grader itself on one submission costs that submission, not the batch."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 - reported in the gradebook instead
        status = f"grader error: {type(err).__name__}: {_clean(str(err))[:200]}"
        rows = [ExerciseResult(i, 0, item.exercise.points, status) for i, item in sorted(checks.items.items())]
        return StudentResult(name, rows, [], [])
