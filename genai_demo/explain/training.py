"""How each shipped model was trained: its loss log as plottable rows, and the samples it saved along the way.

Every training command writes ``train_log.jsonl`` (one JSON record per logged step: ``step``, ``seconds``,
``epoch`` and the losses of that step, plus validation figures now and then) and ``samples/`` (a grid from fixed
noise, or a text sample, every so often), next to the weights; see ``genai_demo.train.common``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LOG_FILE = "train_log.jsonl"
NOT_CURVES = {"step", "seconds", "epoch", "lr"}  # bookkeeping, not a loss; lr has its own scale
SAMPLE_NAME = re.compile(r"^(step|epoch)_(\d+)\.(png|txt)$")


def model_id(folder_name: str) -> str:
    """``image-gan`` -> ``image/gan`` (the registry's id); a name without a modality stays as it is."""
    head, sep, rest = folder_name.partition("-")
    return f"{head}/{rest}" if sep and head in ("image", "text", "audio") else folder_name


def logged_models(weights_root: str | Path, first: tuple[str, ...] = ()) -> list[str]:
    """Folder names under ``weights_root`` that hold a training log: those named in ``first`` in that order, then
    image, text and audio models, then the rest (the digit classifier)."""
    root = Path(weights_root)
    if not root.is_dir():
        return []
    names = [d.name for d in root.iterdir() if (d / LOG_FILE).is_file()]
    order = {"image": 0, "text": 1, "audio": 2}
    return sorted(names, key=lambda n: (first.index(n) if n in first else len(first), order.get(n.split("-")[0], 3), n))


@dataclass
class LossLog:
    rows: list[dict] = field(default_factory=list)  # {"step": int, "series": name, "value": float}, long format
    series: list[str] = field(default_factory=list)  # in order of first appearance
    skipped: int = 0  # lines that were not a JSON record with a step
    problem: str = ""  # "missing", "unreadable" or "empty" when there is nothing to plot; else ""
    message: str = ""  # the same in English, or what was skipped; empty when all is well


def read_log(path: str | Path) -> LossLog:
    """Every numeric field of every record except bookkeeping, one row per (step, field); bad lines are counted."""
    path = Path(path)
    out = LossLog()
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        out.problem = "missing"
        out.message = f"No training log: {path} does not exist."
        return out
    except OSError as e:
        out.problem = "unreadable"
        out.message = f"The training log {path} could not be read ({type(e).__name__})."
        return out
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            step = int(record["step"])
        except (ValueError, KeyError, TypeError):
            out.skipped += 1
            continue
        for key, value in record.items():
            if key in NOT_CURVES or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite: a diverged step
                continue
            if key not in out.series:
                out.series.append(key)
            out.rows.append({"step": step, "series": key, "value": float(value)})
    if not out.rows:
        out.problem = "empty"
        out.message = f"The training log {path} holds no loss values."
    elif out.skipped:
        out.message = f"{out.skipped} line{'s' if out.skipped != 1 else ''} of {path.name} could not be read and were skipped."
    return out


def read_summary(folder: str | Path) -> dict:
    """``training.json`` (what the run was, how long it took), or {} if missing or unreadable."""
    try:
        summary = json.loads((Path(folder) / "training.json").read_text())
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


@dataclass
class Sample:
    path: Path
    step: int | None  # training step when it was saved (estimated from the epoch for per-epoch samples)
    epoch: int | None  # for samples saved after an epoch: which one (1 = the first)
    caption: str  # "step 1,000" or "epoch 5 (about step 780)"
    kind: str  # "image" or "text"


def training_samples(folder: str | Path) -> list[Sample]:
    """The samples saved during training, in the order they were made, each captioned with when."""
    folder = Path(folder)
    summary = read_summary(folder)
    per_epoch = None
    if summary.get("steps") and summary.get("epochs"):
        per_epoch = summary["steps"] / float(summary["epochs"])
    found = []
    for path in (folder / "samples").glob("*") if (folder / "samples").is_dir() else ():
        m = SAMPLE_NAME.match(path.name)
        if not m:
            continue
        unit, number, ext = m.group(1), int(m.group(2)), m.group(3)
        if unit == "step":
            step, epoch, caption = number, None, f"step {number:,}"
        else:
            step, epoch = (round(number * per_epoch) if per_epoch else None), number
            caption = f"epoch {number}" + (f" (about step {step:,})" if step is not None else "")
        found.append(Sample(path, step, epoch, caption, "image" if ext == "png" else "text"))
    return sorted(found, key=lambda s: (s.step if s.step is not None else -1, s.path.name))
