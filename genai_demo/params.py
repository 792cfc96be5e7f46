"""A model's parameters, declared once: what the page shows, what the CLI accepts, what the API checks.

``Param`` validates a value and says, in one line, what is wrong with it; ``ParameterError`` also carries the
parameter, the reason and the value, so the page can say the same in the learner's language. ``Preset`` is a named
set of values with its commentary. (``genai_demo.contract`` re-exports all of them.)
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("slider", "integer", "choice", "toggle", "text")
MAX_SEED = 2**32 - 1


class GenAIError(Exception):
    """An error whose message is meant for the user: one clear line, no traceback."""


class ParameterError(GenAIError, ValueError):
    """A parameter is missing, of the wrong type, out of range or unknown.

    The message is the CLI's and the API's line, naming the parameter by its code name. ``param``, ``reason`` (one
    of REASONS) and ``value`` let the page say the same in the learner's language, naming the control as shown."""

    REASONS = ("missing", "wrong_type", "not_number", "not_finite", "not_whole", "out_of_range", "not_choice",
               "not_toggle", "too_long", "empty")

    def __init__(self, message: str, *, param: "Param | None" = None, reason: str | None = None, value: Any = None):
        super().__init__(message)
        self.param, self.reason, self.value = param, reason, value


@dataclass(frozen=True)
class Follows:
    """How a parameter's control follows another parameter's choice on the page (``on``, a choice parameter of the
    same model): for a choice in ``ranges``, its own ``minimum``, ``maximum`` and ``value`` (each optional: the
    parameter's own bounds where left out; ``value`` is what the control takes when that choice is picked, and what a
    link or a caller that leaves this parameter out gets); for a choice in ``fixed``, the control cannot be moved and
    says why, per language ({"en": ..., "ko": ...}). What is allowed is still the model's ``validate``'s business:
    this is what the page shows and what a missing value becomes."""

    on: str
    ranges: dict = field(default_factory=dict)  # choice -> {"minimum": 1, "maximum": 4, "value": 4}
    fixed: dict = field(default_factory=dict)  # choice -> {"en": why, "ko": why}

    def view(self, p: "Param", choice: str) -> dict:
        """The control of ``p`` while ``on`` is ``choice``: minimum, maximum, value (None: keep it) and fixed."""
        own = self.ranges.get(choice, {})
        return {"minimum": own.get("minimum", p.minimum), "maximum": own.get("maximum", p.maximum),
                "value": own.get("value"), "fixed": choice in self.fixed}

    def default(self, p: "Param", choice: str):
        """The value of ``p`` where it is not given, with ``on`` at ``choice``."""
        value = self.ranges.get(choice, {}).get("value")
        return p.default if value is None else value


@dataclass(frozen=True)
class Param:
    """One control of a model: what the UI shows, what the CLI accepts, what the API checks."""

    name: str  # the ecosystem's own name: seed, num_images, guidance_scale, temperature...
    kind: str  # one of KINDS
    default: Any
    help: str  # one sentence for students: what moving this control does
    label: str = ""  # shown in the UI; defaults to the name
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 2000  # for text
    advanced: bool = False  # hidden in teacher mode
    # The page's words in other languages: {"ko": ("label", "help")}; English is ``label`` and ``help`` above.
    translations: dict = field(default_factory=dict, compare=False)
    # How the page names a choice, per language (the value itself stays the API's): {"ko": {"major": "장조"}}.
    choice_names: dict = field(default_factory=dict, compare=False)
    # How the page's control follows another parameter's choice (its range, its value, or fixed), if it does.
    follows: Follows | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"{self.name}: default {self.default!r} is not among its choices")

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def describe_range(self) -> str:
        if self.kind in ("slider", "integer"):
            return f"{'an integer' if self.kind == 'integer' else 'a number'} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        if self.kind == "choice":
            if len(self.choices) > 6:  # a long list (real chorales to continue): the first few, then how many more
                return "one of " + ", ".join(self.choices[:4]) + f" and {len(self.choices) - 4} more"
            return "one of " + ", ".join(self.choices)
        if self.kind == "toggle":
            return "true or false"
        return f"text of at most {self.max_length:,} characters"

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ParameterError naming what is allowed."""
        def bad(why: str, reason: str) -> ParameterError:
            shown = shown_value(value) if self.kind in ("slider", "integer") else _cut(repr(value))
            return ParameterError(f"{self.name}={shown} {why}: expected {self.describe_range()}", param=self,
                                  reason=reason, value=value)

        if value is None:
            raise ParameterError(f"{self.name} is missing: expected {self.describe_range()}", param=self,
                                 reason="missing")
        if self.kind in ("slider", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise bad("has the wrong type", "wrong_type")
            try:
                number = float(value)
            except (ValueError, OverflowError):  # "abc", or an integer too large for a float (10**400)
                if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
                    raise bad("is out of range", "out_of_range") from None
                raise bad("is not a number", "not_number") from None
            if not math.isfinite(number):
                raise bad("is not a finite number", "not_finite")
            if self.kind == "integer":
                if number != int(number):
                    raise bad("is not a whole number", "not_whole")
                number = int(value) if isinstance(value, int) else int(number)
            if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
                raise ParameterError(f"{self.name}={shown_value(value)} is out of range: expected {self.describe_range()}",
                                     param=self, reason="out_of_range", value=value)
            return number
        if self.kind == "choice":
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise bad("has the wrong type", "wrong_type")
            if str(value) not in self.choices:
                raise bad("is not a known choice", "not_choice")
            return str(value)
        if self.kind == "toggle":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise bad("is not true or false", "not_toggle")
        if not isinstance(value, str):
            raise bad("has the wrong type", "wrong_type")
        if len(value) > self.max_length:
            raise ParameterError(f"{self.name} is {len(value):,} characters long: expected {self.describe_range()}",
                                 param=self, reason="too_long", value=value)
        return value

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, (), "", {})}


def filled(params, given: dict) -> dict:
    """Every parameter's value, not yet validated: ``given``'s where it has one, else the default, or for a parameter
    that follows another's choice (``Param.follows``) that choice's value (DPM-Solver++ without steps: its 20)."""
    values = {p.name: given[p.name] if p.name in given else p.default for p in params}
    for p in params:
        if p.follows is not None and p.name not in given and p.follows.on in values:
            values[p.name] = p.follows.default(p, values[p.follows.on])
    return values


def _fmt(x: float | None) -> str:
    if x is None:
        return "any"
    if isinstance(x, int):  # exactly as given, however long (a seed typed with 23 digits stays those digits)
        return str(x)
    if abs(x) >= 1e15:  # beyond the digits a float keeps: do not invent the rest
        return f"{x:.6g}"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def shown_value(value: Any, limit: int = 40) -> str:
    """A value as an error message quotes it: numbers as written, other values by repr, cut to ``limit``."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float):
        text = _fmt(value) if math.isfinite(value) else repr(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()  # a number typed as text (a link, the CLI): as typed
    else:
        text = repr(value)
    return _cut(text, limit)


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def seed_param() -> Param:
    return Param("seed", "integer", 0, "The random seed: the same seed and settings always give the same output.",
                 minimum=0, maximum=MAX_SEED, step=1,
                 translations={"ko": ("시드", "무작위 시드: 같은 시드와 같은 설정은 언제나 같은 결과를 냅니다.")})


@dataclass(frozen=True)
class Preset:
    """Named values for some of a model's parameters, with a one-line commentary on what they show; the rest go back
    to their defaults and the seed stays. ``broken`` marks a setting that shows how the model fails."""

    name: str  # its key: "<model id>:preset:<name>"
    values: dict
    texts: dict  # per language: (button name, commentary), e.g. {"en": ("Good: truncation 0.7", "clean digits."), ...}
    broken: bool = False

    def key(self, model_id: str, part: str) -> str:
        return f"{model_id}:preset:{self.name}:{part}"
