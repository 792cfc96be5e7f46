"""How a model's presets apply, and the About tab's credits.

The lessons themselves (``lesson:<tab>`` and ``about:body`` in ``genai_demo/locales/``) retell the project's seed
document (``shared/seed/genai-introduction.md``, written in both languages): what generative AI is, the four
families, and its limits. Each model declares its presets next to it (``ModelAdapter.presets``): values with a
one-line commentary that describes what the shipped weights really draw at those settings (checked by eye on
seed 1), so a class sees each control's failure mode.
"""

from __future__ import annotations

import re
from pathlib import Path

from genai_demo import i18n
from genai_demo.contract import Preset, filled


def presets_for(adapter) -> tuple[Preset, ...]:
    """The presets that fit this adapter: every value names one of its parameters and passes its validation."""
    names = {p.name: p for p in adapter.params}
    fitting = []
    for preset in adapter.presets:
        try:
            if all(k in names and names[k].validate(v) == v for k, v in preset.values.items()):
                fitting.append(preset)
        except ValueError:  # a hub model whose ranges differ
            continue
    return tuple(fitting)


def preset_values(adapter, preset: Preset, seed=None) -> dict:
    """Every parameter's value under a preset: its own values, the defaults for the rest (a parameter that follows
    another's choice: that choice's value), the seed kept."""
    values = filled(adapter.params, preset.values)
    if seed is not None and "seed" in values:
        values["seed"] = seed
    return values


def _credits() -> dict[str, str]:
    """The About tab's credits, from ``docs/credits.md`` (English, then Korean after ``<!-- ko -->``): the repository's
    copy, or the one a built package carries as ``genai_demo/docs/credits.md``."""
    package = Path(__file__).resolve().parent
    for path in (package / "docs" / "credits.md", package.parent / "docs" / "credits.md"):
        if path.is_file():
            english, _, korean = path.read_text(encoding="utf-8").partition("<!-- ko -->")
            # one heading level down: the About tab's own headings are ##
            return {lang: re.sub(r"^(#+) ", r"#\1 ", text.strip(), flags=re.M)
                    for lang, text in (("en", english), ("ko", korean or english))}
    return {"en": "Credits and licences: see docs/credits.md in the source.",
            "ko": "출처와 라이선스: 소스의 docs/credits.md를 보세요."}


i18n.register({lang: {"about:credits": text} for lang, text in _credits().items()})
