"""The course's grading pipeline, built on nbgrader.

``grader.answers`` is the only part that runs inside a student's kernel (hidden tests call
``check``); everything else runs in the trusted grader process.
"""
