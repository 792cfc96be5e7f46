"""A visitor's session in Gradio keeps only what the visitor changed on the page, not a copy of the whole page.

Gradio 6.31 builds, for every new session (each visitor's first event: the page's opening result at load), the
configuration of every block on the page, so that its "deep link" (a URL that reopens the page as the visitor left
it) can be written if asked for: 33 ms of the server's interpreter and 1.0 MB for this page's 597 blocks, kept
until 10,000 sessions have come after it. A class of 30 opening the page costs the server a second of its one
interpreter and 30 MB; a public link open all day, a megabyte per visitor for good.

``lean_sessions`` has a session start empty: the blocks whose configuration the session changes (a result shown,
a control moved) get theirs when they change, as before, and a deep link asked for builds the other blocks' from
the page then. Deep links come out the same (``tests/test_sessions.py`` compares them with Gradio's own).
"""

from __future__ import annotations

import os
from copy import copy
from typing import Iterator


def lean_sessions() -> bool:
    """Make Gradio's sessions start without a copy of every block's configuration; True if applied."""
    import gradio
    from gradio.state_holder import SessionState

    if not gradio.__version__.startswith("6.31."):  # the version this was written for: check a newer one first
        return False
    if getattr(SessionState, "lean", False):
        return True

    def start_empty(self, blocks) -> None:
        self.blocks_config = copy(blocks.default_config)
        self.page_ids = blocks.blocks.keys()  # the page's own blocks: those a deep link describes
        self.config_values = {}  # only the blocks this session changed (SessionState.__setitem__, _update_*)
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def components(self) -> Iterator[dict]:
        """Every page block's configuration as this session has it, in the page's order (for a deep link)."""
        for key, block in self.blocks_config.blocks.items():
            if key not in self.page_ids:
                continue
            config = self.config_values.get(key)
            if config is None:
                config = self.blocks_config.config_for_block(key, [], block)
            if config:
                yield config

    # Gradio's own, kept for tests/test_sessions.py, which compares deep links made both ways
    SessionState.gradio_init, SessionState.gradio_components = SessionState.__init__, SessionState.components
    SessionState.__init__ = start_empty
    SessionState.components = property(components)
    SessionState.lean = True
    return True
