"""Whatever a kernel sends (a student's code can publish any message on its channel), the
grader's client neither raises nor keeps more than its budgets, and answers stay apart."""

from __future__ import annotations

import nbformat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbclient.exceptions import CellExecutionComplete

from grader.answers import MIME_TYPE
from grader.execute import NOTEBOOK_OUTPUT_LIMIT, OUTPUT_LIMIT, _Client

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
MSG_TYPES = [
    "stream", "display_data", "execute_result", "update_display_data", "clear_output", "error",
    "status", "execute_input", "comm_open", "comm_msg", "comm_close", "anything",
]  # fmt: skip
content = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["stdout", "stderr"]) | json_values,
        "text": st.text(max_size=50) | json_values,
        "data": st.dictionaries(st.sampled_from(["text/plain", "text/html", MIME_TYPE, "x"]), json_values) | json_values,
        "metadata": json_values,
        "transient": st.fixed_dictionaries({}, optional={"display_id": st.text(max_size=5)}) | json_values,
        "execution_count": json_values,
        "execution_state": st.sampled_from(["busy", "idle", "starting"]) | json_values,
        "ename": json_values, "evalue": json_values, "traceback": json_values, "wait": json_values,
        "comm_id": json_values, "target_name": json_values,
    },
)  # fmt: skip
messages = st.builds(
    lambda kind, body, parent, header: {
        "msg_type": kind,
        "header": {"msg_type": kind} if header is None else header,
        "parent_header": parent,
        "content": body,
    },
    st.sampled_from(MSG_TYPES) | json_values,
    content | json_values,
    st.just({"msg_id": "m"}) | json_values,
    st.none() | json_values,
)


def client():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    grader = _Client(nb)
    grader.clear_before_next_output = False  # as execute_cell sets it
    nb.cells[0].metadata["execution"] = {}  # where execute_cell records timings
    return grader, nb.cells[0]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(messages, max_size=8))
def test_any_kernel_message_is_handled_or_dropped_never_raised(batch):
    grader, cell = client()
    for msg in batch:
        try:
            grader.process_message(msg, cell, 0)
        except CellExecutionComplete:  # a well-formed "idle": the cell is done
            pass
    assert isinstance(cell.outputs, list)
    nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))  # still a notebook we can save


def test_widget_messages_keep_no_state():
    grader, cell = client()
    for i in range(50):
        state = {"state": {"value": "x" * 10_000}, "buffer_paths": []}
        msg = {"msg_type": "comm_open", "header": {"msg_type": "comm_open"}, "parent_header": {"msg_id": "m"},
               "content": {"comm_id": f"c{i}", "target_name": "jupyter.widget", "data": state}}  # fmt: skip
        grader.process_message(msg, cell, 0)
    assert grader.widget_state == {} and cell.outputs == []


def _stream(text):
    return {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": "m"},
            "content": {"name": "stdout", "text": text}}  # fmt: skip


def _answer(i):
    record = {"name": f"a{i}", "value": {"kind": "number", "value": i}}
    return {"msg_type": "display_data", "header": {"msg_type": "display_data"}, "parent_header": {"msg_id": "m"},
            "content": {"data": {MIME_TYPE: record, "text/plain": "recorded"}, "metadata": {}}}  # fmt: skip


def test_printing_cannot_crowd_out_answers_and_budgets_count_what_is_kept():
    grader, cell = client()
    for _ in range(3 * OUTPUT_LIMIT // 100_000):
        grader.process_message(_stream("p" * 100_000), cell, 0)
    for i in range(5):
        grader.process_message(_answer(i), cell, 0)
    printed = "".join(o.get("text", "") for o in cell.outputs)
    kept, note = printed.split("[output cut by the grader: over 1,000,000 characters]")
    assert set(kept) == {"p"} and len(kept) <= OUTPUT_LIMIT and note == "\n"
    assert [o["data"][MIME_TYPE]["name"] for o in cell.outputs if "data" in o] == [
        f"a{i}" for i in range(5)
    ]
    other = nbformat.v4.new_code_cell("y")  # the next cell still has the notebook's budget left
    grader.process_message(_stream("after"), other, 1)
    assert [o.get("text") for o in other.outputs] == ["after"]
    assert NOTEBOOK_OUTPUT_LIMIT > OUTPUT_LIMIT
