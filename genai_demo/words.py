"""Words a model writes into its results (a process frame's label, a caption), in English, translatable later.

A model's code knows no language but English and nothing of the page. Where it writes words for people, it writes
a ``Say``: an ordinary ``str`` (so logs, the CLI, JSON and the tests read English as before) that also remembers
its template and values. The page looks the template up in the model's ``words`` declaration for the learner's
language and fills in the same values (``ModelAdapter.words``: ``{"ko": {"step {step} of {steps}": "..."}}``).
"""

from __future__ import annotations


class Say(str):
    """``Say("step {step} of {steps}", step=3, steps=20)`` is the string "step 3 of 20", translatable."""

    template: str
    values: dict

    def __new__(cls, template: str, **values):
        text = super().__new__(cls, template.format(**values))
        text.template, text.values = template, values
        return text

    def __reduce__(self):  # crosses to and from the worker process intact
        return _rebuild, (self.template, self.values)

    def __deepcopy__(self, memo):  # Gradio copies session state: immutable, like str
        return self

    def __copy__(self):
        return self

    def in_language(self, table: dict) -> str:
        """This text from ``table`` (template -> translated template), or English when the table lacks it."""
        template = table.get(self.template)
        return template.format(**self.values) if template else str(self)


def _rebuild(template: str, values: dict) -> Say:
    return Say(template, **values)


def words_of(adapter, lang: str) -> dict:
    """The model's translated templates in ``lang``, its own over those of the classes it builds on."""
    table = {}
    for cls in reversed(type(adapter).__mro__):
        table.update(getattr(cls, "words", {}).get(lang, {}))
    return table
