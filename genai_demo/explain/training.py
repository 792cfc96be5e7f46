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

from genai_demo import i18n

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


# -- what the page's training view shows, in the visitor's language (no gradio: genai_demo/ui/explain.py shows it) --

def _run_summary(folder, name: str, request) -> str:
    from genai_demo.explain.training import read_summary

    t = read_summary(folder)
    if not t:
        return i18n.message_for("explain:training:no_summary", request, name=name)
    lines = []
    if "steps" in t and "minutes" in t:
        lines.append(i18n.message_for("explain:training:run", request, steps=f"{t['steps']:,}", epochs=t.get("epochs", "?"),
                          batch=t.get("batch_size", "?"), minutes=f"{t['minutes']:.1f}", threads=t.get("threads", "?")))
    losses = {k: v for k, v in (t.get("final_losses") or {}).items() if isinstance(v, (int, float))}
    if losses:
        lines.append(i18n.message_for("explain:training:final", request,
                          losses=", ".join(f"{loss_name(k, i18n.language_of(request))} {v:.4g}"
                                           for k, v in losses.items())))
    if t.get("kept_step") and t.get("kept_step") != t.get("steps"):
        lines.append(i18n.message_for("explain:training:kept", request, step=f"{t['kept_step']:,}"))
    if t.get("command"):
        lines.append(i18n.message_for("explain:training:command", request, command=t["command"]))
    return " ".join(lines)


def training_data(weights_root, name: str | None, request=None, first: tuple[str, ...] = ()) -> tuple:
    """For one weights folder: the run's summary, its losses as a long table, its image samples, its text samples."""
    import pandas as pd

    empty = pd.DataFrame({"step": [], "series": [], "value": []})
    names = logged_models(weights_root, first)
    if not names:
        return i18n.message_for("explain:training:missing", request, name="-", path="weights/"), empty, [], ""
    if name not in names:  # the value comes from the browser: only folders found here are read
        return i18n.message_for("explain:training:unknown", request, name=str(name)[:60]), empty, [], ""
    folder = Path(weights_root) / name
    path = folder / LOG_FILE
    loss_log = read_log(path)
    notes = [_run_summary(folder, model_id(name), request)]
    if loss_log.problem:
        # Named from the weights folder down: visitors see no server paths.
        notes.append(i18n.message_for(f"explain:training:{loss_log.problem}", request, name=model_id(name),
                          path=f"{name}/{LOG_FILE}"))
    elif loss_log.skipped:
        notes.append(i18n.message_for("explain:training:skipped", request, n=loss_log.skipped))
    table = pd.DataFrame(loss_log.rows) if loss_log.rows else empty
    images, texts = [], []
    for s in training_samples(folder):
        if s.epoch is not None:
            caption = i18n.message_for("explain:training:caption_epoch" if s.step is not None else
                           "explain:training:caption_epoch_only", request, epoch=s.epoch, step=s.step)
        else:
            caption = i18n.message_for("explain:training:caption_step", request, step=s.step)
        if s.kind == "image":
            images.append((str(s.path), caption))
        else:
            try:
                texts.append(f"── {caption} ──\n{s.path.read_text(encoding='utf-8', errors='replace')[:1500].strip()}")
            except OSError:
                continue
    if not images and not texts:
        notes.append(i18n.message_for("explain:training:no_samples", request))
    return "  \n".join(n for n in notes if n), table, images, "\n\n".join(texts)


def loss_name(key: str, lang: str) -> str:
    """A logged loss's name in ``lang`` ("d_loss" -> "판별자 손실"), or the key itself for one the page does not know."""
    return i18n.message(f"loss:{key}", lang) if i18n.known_message(f"loss:{key}") else key
