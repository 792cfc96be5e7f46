"""``Refusal``: why the lab or the quiz cannot do what was asked, as one line in the visitor's language.

``str(refusal)`` is the English line (the API's and the logs'); ``refusal.message(lang)`` is the page's. The words
live in ``genai_demo/locales/`` under the key the refusal names.
"""

from __future__ import annotations

from genai_demo import i18n
from genai_demo.contract import GenAIError


class Refusal(GenAIError):
    def __init__(self, key: str, **values):
        super().__init__(i18n.message(key, "en", **values))
        self.key, self.values = key, values

    def message(self, lang: str) -> str:
        return i18n.message(self.key, lang, **self.values)
