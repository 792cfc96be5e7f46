"""A visitor's Gradio session starts empty and fills with what it changes (genai_demo/ui/sessions.py); deep links
come out as Gradio's own sessions make them."""

import json
import tracemalloc
import urllib.request

import gradio as gr
import pytest
from gradio.state_holder import SessionState
from gradio_client import Client

from genai_demo.ui import build_demo


@pytest.fixture(scope="module")
def page():
    return build_demo()  # (the page applies lean_sessions)


def test_a_new_session_copies_no_block_of_the_page(page):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sessions = [SessionState(page) for _ in range(5)]
        per_session = (tracemalloc.get_traced_memory()[0] - before) / 5
    finally:
        tracemalloc.stop()
    assert len(page.blocks) > 500
    assert all(s.config_values == {} for s in sessions)
    full = object.__new__(SessionState)
    SessionState.gradio_init(full, page)  # Gradio's own: every block's configuration, copied
    assert len(full.config_values) == len(page.blocks)
    assert per_session < 100_000, per_session  # Gradio's own: about 1 MB for this page


def test_a_deep_link_lists_the_same_blocks_as_gradios_own_session(page):
    lean, full = SessionState(page), object.__new__(SessionState)
    SessionState.gradio_init(full, page)
    # What Gradio does to a session when an event shows a result and when it updates a control's properties.
    gallery = next(b for b in page.blocks.values() if isinstance(b, gr.Gallery))
    slider = next(b for b in page.blocks.values() if isinstance(b, gr.Slider))
    shown = [{"image": {"path": "/tmp/x.png", "url": None}, "caption": "a 3"}]
    for state in (lean, full):
        state[gallery._id] = gallery
        state._update_value_in_config(gallery._id, shown)
        state[slider._id] = gr.Slider(minimum=1, maximum=4, value=2, render=False)
        state._update_config(slider._id)
    ours, theirs = list(lean.components), list(SessionState.gradio_components.fget(full))
    assert len(ours) == len(page.blocks)
    assert [a.get("id") for a, b in zip(ours, theirs) if a != b] == []  # (the ids of any block that differs)
    by_id = {c["id"]: c for c in ours}
    assert by_id[gallery._id]["props"]["value"] == shown
    assert by_id[slider._id]["props"]["maximum"] == 4
    assert set(lean.config_values) == {gallery._id, slider._id}  # nothing else was copied


def test_a_served_session_makes_a_deep_link_with_its_result(app_url):
    client = Client(app_url, verbose=False, download_files=False)
    result = client.predict(seed=4242, num_images=2, label="7", truncation=1.0, api_name="/image_gan")
    gallery = result[0] if isinstance(result, (list, tuple)) else result
    shown = gallery[0]["image"]["path"] if isinstance(gallery[0]["image"], dict) else gallery[0]["image"]
    url = f"{app_url}gradio_api/deep_link?session_hash={client.session_hash}"
    with urllib.request.urlopen(url, timeout=30) as response:
        link = json.loads(response.read())
    assert link
    with urllib.request.urlopen(f"{app_url}?deep_link={link}", timeout=30) as response:
        html = response.read().decode()
    assert shown.rsplit("/", 1)[-1] in html  # the page reopened by the link shows this session's digits
