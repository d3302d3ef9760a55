"""The course's grading pipeline, built on nbgrader.

``grader.answers`` is the only part that runs inside a student's kernel (hidden tests call
``check``); everything else runs in the trusted grader process.
"""

import sys

# nbformat validates with jsonschema, whose format checkers import rfc3987_syntax, which
# compiles ~40 Lark grammars at import: 2 s of every grader start-up, for the "iri" format that
# no notebook schema uses (python-jsonschema/jsonschema#1428). Without it, jsonschema simply
# skips that one format.
sys.modules.setdefault("rfc3987_syntax", None)
