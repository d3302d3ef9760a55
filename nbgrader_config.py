"""nbgrader's course directory is this repository: solutions/ is the instructor source and
notebooks/ the student release (``nbgrader generate_assignment`` writes it)."""

from pathlib import Path

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.course_id = "autograd-course"
# The gradebook stays out of git and out of the student-visible tree.
c.CourseDirectory.db_url = "sqlite:///" + str(
    Path(__file__).resolve().parent / "build" / "grader" / "gradebook.db"
)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
