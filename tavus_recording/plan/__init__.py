"""The offline plan, rendered: every resource a stack registers on the mock engine, and its outputs, as one
JSON-able object (`plan_document`, for `plan --json`) or as the text a reviewer reads (`render_text`), both from
the same facts in the same order, so the same stack gives the same bytes on every run: `values` keeps each value's
real type in a stable order, `order` puts parents first and each resource after the siblings it depends on,
`placeholders` says what each placeholder stands for, `replacement` knows which inputs of kept storage force a
replacement and warns of one against an earlier plan (`plan --previous`), `summary` says in a few lines who can
do what, where the data lives and what is kept on destroy, and `document` and `text` put them together.
"""

from tavus_recording.plan.document import plan_document
from tavus_recording.plan.order import ordered
from tavus_recording.plan.placeholders import example_values
from tavus_recording.plan.replacement import REPLACED_BY, PreviousPlanError, compare_with_previous, read_previous
from tavus_recording.plan.text import render_text

__all__ = [
    "REPLACED_BY",
    "PreviousPlanError",
    "compare_with_previous",
    "example_values",
    "ordered",
    "plan_document",
    "read_previous",
    "render_text",
]
