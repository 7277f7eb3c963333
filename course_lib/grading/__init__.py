"""Exercise checks for learners (``check``) and the registry the instructor's grader shares."""
from course_lib.grading.check import CheckReport, check, run_checks
from course_lib.grading.registry import Case, Exercise, all_exercises, get_exercise

__all__ = ["check", "run_checks", "CheckReport", "Case", "Exercise", "all_exercises", "get_exercise"]
