"""What every training command shares: data as tensors, the loss log, the time budget, sample grids, the model card."""

from __future__ import annotations

import json
import math
import platform
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from genai_demo.data.mnist import HUB_ID as MNIST_HUB_ID, load_mnist
from genai_demo.runtime import configure_torch

# Checkpoints are saved in shards of at most this size: the Hugging Face Hub (and so a Space) refuses files over
# 10 MB that are not stored with Git LFS, and this repository stores none with LFS.
MAX_SHARD_SIZE = "8MB"


def mnist_tensors(data_dir, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """Every MNIST image found in ``data_dir`` as floats in [0, 1], (N, 1, 28, 28), with int64 labels."""
    data = load_mnist(data_dir)
    images = torch.from_numpy(data.images[:limit].astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(data.labels[:limit]), data.splits


@dataclass
class TrainRun:
    """Bookkeeping for one training run: the log file, the clock and the budget."""

    out_dir: Path
    total_steps: int
    time_budget: float | None = None  # seconds; stop early (and still save) once spent
    desc: str = "train"
    log_every: int = 25  # steps between lines of the loss log (the last step is always logged)
    started: float = field(default_factory=time.perf_counter)
    step: int = 0

    def __post_init__(self):
        configure_torch()
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.out_dir / "train_log.jsonl"
        self._log = self.log_path.open("w")
        self.bar = tqdm(total=self.total_steps, desc=self.desc, unit="step", dynamic_ncols=True)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def out_of_time(self) -> bool:
        return self.time_budget is not None and self.elapsed >= self.time_budget

    @property
    def finished(self) -> bool:
        """All planned steps done, or the time budget spent."""
        return self.step >= self.total_steps or self.out_of_time()

    def progress(self) -> float:
        """How far through the run, 0 to 1: by steps, or by the clock when there is a time budget, whichever is further."""
        by_time = self.elapsed / self.time_budget if self.time_budget else 0.0
        return min(1.0, max(self.step / self.total_steps, by_time))

    def learning_rate(self, peak: float, warmup_steps: int) -> float:
        """Linear warm-up to ``peak``, then a cosine down to a tenth of it, laid over the steps or the time budget
        (so a run cut short by its budget still ends at the low rate)."""
        if self.step < warmup_steps:
            return peak * (self.step + 1) / warmup_steps
        return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * self.progress())))

    def epochs(self):
        """Epoch numbers 0, 1, ... while the run is not finished; ``epochs_done`` counts the completed ones."""
        self.epochs_done = 0
        while not self.finished:
            yield self.epochs_done
            self.epochs_done += 1

    def batches(self, n: int, batch_size: int):
        """One epoch of shuffled index batches over ``n`` items (the last partial batch dropped), until finished."""
        order = torch.randperm(n)
        for i in range(max(1, n // batch_size)):
            if self.finished:
                return
            yield order[i * batch_size : (i + 1) * batch_size]

    def advance(self, epoch: int, **losses: float) -> None:
        """Count one optimiser step; show its losses on the bar and, every ``log_every`` steps, in the log."""
        self.step += 1
        self.bar.update(1)
        if self.step % 10 == 0 or self.step == self.total_steps:
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
        if self.step % self.log_every == 0 or self.step == self.total_steps:
            self.log(epoch=epoch, **losses)

    def log(self, **record) -> None:
        """One line of the loss log (JSON lines), stamped with step and seconds."""
        record = {"step": self.step, "seconds": round(self.elapsed, 2), **record}
        self._log.write(json.dumps(record) + "\n")
        self._log.flush()

    def close(self) -> None:
        self.bar.close()
        self._log.close()


class BestWeights:
    """The weights at the lowest held-out loss seen so far, so a run that starts to overfit can go back to them."""

    def __init__(self):
        self.loss, self.state, self.step = float("inf"), None, 0

    def offer(self, model: torch.nn.Module, loss: float, step: int) -> None:
        if loss < self.loss:
            self.loss, self.step = loss, step
            self.state = {k: v.clone() for k, v in model.state_dict().items()}

    def restore_if_better(self, model: torch.nn.Module, final_loss: float, final_step: int) -> int:
        """Load the best weights if they beat the final ones; return the step whose weights the model now holds."""
        if self.state is not None and self.loss < final_loss:
            model.load_state_dict(self.state)
            return self.step
        return final_step


def save_grid(images: torch.Tensor, path: Path, nrow: int = 10) -> None:
    """Tile (B, 1, H, W) images in [0, 1] into one grayscale PNG."""
    b, _, h, w = images.shape
    ncol = (b + nrow - 1) // nrow
    grid = np.zeros((ncol * h, nrow * w), dtype=np.uint8)
    arr = (images.clamp(0, 1).squeeze(1).numpy() * 255).round().astype(np.uint8)
    for i, img in enumerate(arr):
        r, c = divmod(i, nrow)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid, mode="L").save(path)


def invocation() -> str:
    """The command line that started this process, for the model card."""
    if sys.argv and sys.argv[0].endswith("__main__.py"):
        return "python -m genai_demo " + shlex.join(sys.argv[1:])
    return shlex.join(["python", *sys.argv])


def write_summary(out_dir: Path, summary: dict) -> None:
    summary = {**summary, "torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.machine()}
    (Path(out_dir) / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_model_card(out_dir)


def write_model_card(out_dir: Path) -> None:
    """README.md (Hugging Face model-card convention) built from training.json and, if present, scores.json."""
    out_dir = Path(out_dir)
    t = json.loads((out_dir / "training.json").read_text())
    # The Hub's task for the digit generators: they take a digit label (or none), not a text prompt, so
    # "text-to-image" would promise what they cannot do, and the Hub has no class-conditional task;
    # "unconditional-image-generation" (noise in, image out) is the nearest honest one.
    task = "image-classification" if "image-classification" in t["tags"] else "unconditional-image-generation"
    lines = card_front_matter(out_dir, t, library_name="genai-playground", pipeline_tag=task,
                              datasets=[MNIST_HUB_ID], eval_dataset=(MNIST_HUB_ID, "MNIST"))
    lines += [
        "",
        f"# {t['title']}",
        "",
        t["description"],
        "",
        "## How it was made",
        "",
        f"- Data: {t['data']}",
        f"- Command: `{t['command']}`",
        f"- Config: `{json.dumps(t['config'])}` ({t['parameters']:,} parameters)",
        f"- Training: {t['steps']:,} steps ({t['epochs']} epochs, batch {t['batch_size']}), "
        f"seed {t['seed']}, {t['minutes']:.1f} minutes on {t['threads']} CPU thread{'s' if t['threads'] != 1 else ''} "
        f"(torch {t['torch']})" + (f"; {t['note']}" if t.get("note") else ""),
        "- Final losses (mean of the last epoch): "
        + ", ".join(f"{k} {v:.4f}" for k, v in t["final_losses"].items()),
        "- Loss log: `train_log.jsonl` (one JSON record per logged step); sample grids from fixed noise: `samples/`",
        "",
    ]
    lines += card_tail(out_dir, "the benchmark named in the project README",
                       t.get("limits", "Trained on 28x28 grayscale digits only; it knows nothing else."))
    (out_dir / "README.md").write_text("\n".join(lines))


def card_front_matter(out_dir: Path, t: dict, *, library_name: str, pipeline_tag: str, datasets: list[str],
                      eval_dataset: tuple[str, str]) -> list[str]:
    """A model card's YAML front matter, written by huggingface_hub's ``ModelCardData`` so the Hub reads it.

    ``datasets`` are Hub dataset ids (empty when the data is not on the Hub); ``eval_dataset`` is the
    (type, name) the figures were measured on. The figures become ``model-index`` results: those of
    ``scores.json`` (see ``score_metrics``) or, before a benchmark has run, training.json's held-out ``val_*`` ones.
    """
    from huggingface_hub import EvalResult, ModelCardData

    scores_path = Path(out_dir) / "scores.json"
    if scores_path.exists():
        metrics = score_metrics(json.loads(scores_path.read_text()))
    else:
        note = {"note": f"held out by the training run: {t['data']}"}
        metrics = [(f"validation {k[4:].replace('_', ' ')}", round(v, 4), note)
                   for k, v in t["final_losses"].items() if k.startswith("val_")]
    results = [EvalResult(task_type=pipeline_tag, dataset_type=eval_dataset[0], dataset_name=eval_dataset[1],
                          metric_type=re.sub(r"\W+", "_", name.replace("%", "percent")).strip("_").lower(),
                          metric_name=name, metric_value=value, metric_args=args or None)
                for name, value, args in metrics]
    data = ModelCardData(model_name=Path(out_dir).name, library_name=library_name, pipeline_tag=pipeline_tag,
                         license="mit", tags=t["tags"], datasets=datasets or None, eval_results=results or None)
    return ["---", data.to_yaml(), "---"]


_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"


def _number(text: str) -> int | float:
    text = text.replace(",", "")
    return float(text) if "." in text else int(text)


def _split_outside_parentheses(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and i >= start and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    return parts + [text[start:]]


def score_metrics(scores: dict) -> list[tuple[str, int | float, dict]]:
    """``scores.json``'s figures as (metric name, number, args) for a card's ``model-index``.

    A figure that is a JSON object (the sampler settings), one with no number, and the file's other fields
    (``threads``) go into every metric's args. Every other figure becomes one or more metrics (``_read_figure``).
    """
    common = {k: v for k, v in scores.items() if k not in ("command", "date", "figures")}
    read = []
    for name, value in scores["figures"].items():
        try:
            settings = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            settings = None
        if isinstance(settings, dict):
            common.update(settings)
        elif (figure := _read_figure(name, value)) is not None:
            read.append(figure)
        else:
            common[name] = value  # a setting in words: nothing to measure
    metrics = []
    for found, notes in read:
        args = {**common, **({"note": "; ".join(notes)} if notes else {})}
        metrics += [(name, number, args) for name, number in found]
    return metrics


def _read_figure(name: str, value) -> tuple[list[tuple[str, int | float]], list[str]] | None:
    """One figure as (metric name, number) pairs and its notes; None when it does not start with a number.

    Figures are read as the benchmarks write them, "quantity [/ quantity] [(clause; ...)] [, clause]", where a
    quantity is a number and its unit: "0.7873 / 2.4270 nats (ratio 0.324)" under "held-out NLL per note token,
    model / unigram" gives "..., model [nats]" 0.7873, "..., unigram [nats]" 2.427 and "..., ratio" 0.324. A
    clause whose number has no unit but a noun after it ("1000 samples", "first 8 bars") says how the figure was
    measured: it is a note, like a clause of words only.
    """
    if isinstance(value, (int, float)):
        return [(name, value)], []
    base, _, tail = name.rpartition(", ")
    variants = tail.split(" / ") if base and " / " in tail else []
    base = base if variants else name
    quantities, clauses = [], []
    for part in _split_outside_parentheses(value, " / "):
        head, *rest = _split_outside_parentheses(part, ", ")
        head, _, inside = head.partition(" (")
        clauses += (inside[:-1].split("; ") if inside else []) + rest
        m = re.fullmatch(rf"({_NUMBER})\s*(.*)", head)
        if m is None:
            return None
        quantities.append((_number(m[1]), m[2]))
    if len(variants) != len(quantities):
        variants = [""] * len(quantities)
    # "0.7873 / 2.4270 nats": a number without a unit has the last one's; "249 / 1,000 new characters": a bare
    # number in the name has the last one's words.
    last_unit, last_words = quantities[-1][1], re.sub(rf"^{_NUMBER}\s*", "", variants[-1])
    labels = [v + " " + last_words if re.fullmatch(_NUMBER, v) else v for v in variants]
    found = [(label, number, unit or last_unit) for (number, unit), label in zip(quantities, labels)]
    notes = []
    for clause in clauses:
        m = re.fullmatch(rf"(.*?)\s*({_NUMBER})(%|x\b| ?ms\b| s\b| nats\b)?\s*(.*)", clause)
        if m is None or (not m[3] and m[4]):
            notes.append(clause)
        else:  # "ratio 0.324", "notes in the key 97.0%", "45.40x the real rate", "0.00x" (generated / real)
            label = " ".join(filter(None, [m[1], m[4]])) or (" / ".join(filter(None, variants)) if m[3] == "x" else "")
            found.append((label, _number(m[2]), (m[3] or "").strip()))
    return [(", ".join(filter(None, [base, label])) + (f" [{unit}]" if unit else ""), number)
            for label, number, unit in found], notes


def card_tail(out_dir: Path, bench_command: str, limits: str) -> list[str]:
    """A model card's last sections: the benchmark's figures from ``scores.json`` (or how to measure them), limits."""
    scores_path = Path(out_dir) / "scores.json"
    lines = ["## Scores", ""]
    if scores_path.exists():
        scores = json.loads(scores_path.read_text())
        lines += [f"Measured by `{scores['command']}` on {scores['date']}:", ""]
        lines += [f"- {k}: {v}" for k, v in scores["figures"].items()]
    else:
        lines.append(f"Not measured yet: run {bench_command}.")
    return lines + ["", "## Limits", "", limits, ""]


def write_scores(out_dir: Path, command: str, figures: dict, **extra) -> None:
    """A benchmark's figures as ``scores.json`` beside the weights, dated, for the model card."""
    import datetime

    scores = {"command": command, "date": datetime.date.today().isoformat(), **extra, "figures": figures}
    (Path(out_dir) / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
