"""Diffusion samplers compared on the shipped model: quality against DDPM's full 1,000 steps, network calls, speed.

    python bench/diffusion_samplers.py --data-dir ../shared/data/mnist [--per-digit 20] [--cache FILE]
    python bench/diffusion_samplers.py --data-dir ../shared/data/mnist --guidance-sweep 1,1.5,2,2.5,3

For each sampler setting, the same digits from the same seeds (``per-digit`` per digit) are judged by the digit
classifier: accuracy on the requested digit, and the Frechet distance of their classifier features to real
digits (2,000 MNIST test digits). Ratios are taken against DDPM with 1,000 steps at the app's default guidance,
from the same seeds. "calls" is the number of network evaluations per image: steps, twice over for classifier-free
guidance (guidance other than 0 and 1), once for the distilled student, whose guidance is built in. Times are per
image, in batches of up to 50 (the samplers' cost scales with calls x batch); they are noisy on a shared machine.

The verdict line checks issue 13's target for the few-step student: at least 10x fewer network calls than the
default 20-step DPM-Solver++ with guidance (40), accuracy within 3 points of DDPM-1000's and a Frechet distance at
most 1.5x DDPM-1000's.

``--seed-sets N --compare``: the question of making the student the default. The same labels from N disjoint sets of
seeds (set k starts at seed 5000 + 10,000 k), each setting measured on each set: the table gives the mean and the
spread (sample standard deviation over the sets) of accuracy and distance, and the student's differences to the
20-step DPM-Solver++ baseline paired by set (same seeds, same labels, same start noise), with their spread. The
verdict calls the student as good where its accuracy is not lower, and its distance not higher, by more than twice
the spread of the paired differences. ``--compare`` keeps only the baseline and the student's rows (DDPM-1000 at
hundreds of digits is too slow for a CPU: 2,000 calls per image).

``--cache FILE`` keeps each setting's accuracy and distance (a pure function of the weights, the setting, the seeds
and the number of digits) in a JSON file, so DDPM-1000 (2,000 network calls per image) is not redrawn for every
run: the rows read from it say "cached", and their times are those of the run that drew them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see genai_demo.runtime.prefer_passive_waiting

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.image_quality import frechet_distance  # noqa: E402
from genai_demo.adapters.diffusion import STUDENT  # noqa: E402
from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.models.classifier import DigitClassifier  # noqa: E402
from genai_demo.registry import Registry  # noqa: E402
from genai_demo.runtime import configure_torch  # noqa: E402

OLD_GUIDANCE = 3.0  # the default before issue 13
# (sampler, steps, guidance); guidance None is the app's default. The first is DPM-Solver++ with 20 steps, the
# default before the student (BASELINE); the app's default is now the student's 4 steps.
SETTINGS = (
    ("DPM-Solver++", 20, None), ("DPM-Solver++", 20, OLD_GUIDANCE), ("DPM-Solver++", 10, None), ("DDIM", 50, None),
    ("DDIM", 20, None), ("DDPM", 50, None), ("DDPM", 1000, None), ("DDPM", 1000, OLD_GUIDANCE),
    (STUDENT, 4, None), (STUDENT, 2, None), (STUDENT, 1, None),
)
SEED_BASE, SEED_SET_STRIDE = 5000, 10_000  # set k's seeds: 5000 + 10,000 k + 100 digit + start
BASELINE = ("DPM-Solver++", 20)  # the default before the student: what --seed-sets compares the student with
DEFAULT_CALLS = 20 * 2  # the default before issue 13: 20 steps of DPM-Solver++, two calls each for guidance


def network_calls(sampler: str, steps: int, guidance: float) -> int:
    return steps if sampler == STUDENT or guidance in (0.0, 1.0) else 2 * steps


def files_version(adapter, names) -> str:
    """The first 12 hex digits of the SHA-256 of these weights files: the teacher's, or the student's."""
    h = hashlib.sha256()
    for name in names:
        h.update((adapter.weights_dir / name).read_bytes())
    return h.hexdigest()[:12]


def measure(adapter, clf, real_feats, sampler, steps, guidance, per_digit, seed_set: int = 0) -> dict:
    images, asked, seconds = [], [], 0.0
    for digit in range(10):
        for start in range(0, per_digit, 50):
            n = min(50, per_digit - start)
            t = time.perf_counter()
            seed = SEED_BASE + SEED_SET_STRIDE * seed_set + 100 * digit + start
            r = adapter.generate(seed=seed, num_images=n, label=str(digit), scheduler=sampler,
                                 num_inference_steps=steps, guidance_scale=guidance)
            seconds += time.perf_counter() - t
            images += [np.asarray(im) for im in r.images]
            asked += r.labels
    x = torch.from_numpy(np.stack(images).astype(np.float32) / 255).unsqueeze(1)
    with torch.no_grad():
        logits, feats = clf(x), clf.features(x).numpy()
    return {"accuracy": float((logits.argmax(1).numpy() == np.asarray(asked)).mean()),
            "fd": frechet_distance(feats, real_feats), "ms": 1000 * seconds / len(images)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--per-digit", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float, help="the guidance of the rows that use the default "
                        "(default: the app's); the student's is built in")
    parser.add_argument("--guidance-sweep", help="instead: DPM-Solver++ 20 steps at each of these guidance scales, "
                        "e.g. 1,1.5,2,2.5,3, to choose the default")
    parser.add_argument("--only", help="only the settings whose 'sampler steps guidance' contains this text, e.g. "
                        "'Distilled' or 'DDPM 1000 1.5'")
    parser.add_argument("--skip", help="leave out the settings whose 'sampler steps guidance' contains this text "
                        "(or any of these, separated by commas)")
    parser.add_argument("--seed-sets", type=int, default=1, metavar="N", help="measure each setting on N disjoint "
                        "sets of seeds (same labels): means, spreads, and the student's paired differences to "
                        "DPM-Solver++ 20 steps")
    parser.add_argument("--compare", action="store_true", help="only DPM-Solver++ 20 steps at the default guidance "
                        "and the student's rows (4 and 2 steps, and 1)")
    parser.add_argument("--cache", help="JSON file of measured settings, read and extended")
    parser.add_argument("--timing", type=int, metavar="ROUNDS", help="also time the default setting and the "
                        "student's, 16 images a request, this many interleaved rounds")
    parser.add_argument("--write-card", action="store_true", help="write the student's figures and DDPM-1000's into "
                        "weights/image-diffusion/student/scores.json and its model card")
    args = parser.parse_args()
    configure_torch()
    registry = Registry()
    adapter = registry.get("image/diffusion")
    adapter.load()
    default = args.guidance_scale if args.guidance_scale is not None else adapter.param("guidance_scale").default
    if args.guidance_sweep:
        settings = [("DPM-Solver++", 20, float(g)) for g in args.guidance_sweep.split(",")]
    else:
        settings = [(s, n, default if g is None else g) for s, n, g in SETTINGS]
        settings = list(dict.fromkeys(settings))  # the old guidance may be the default
    if args.compare:
        settings = [s for s in settings if s == (*BASELINE, default) or s[0] == STUDENT]
    if args.only:
        settings = [s for s in settings if args.only in f"{s[0]} {s[1]} {s[2]:g}"]
    if args.skip:
        settings = [s for s in settings if not any(x in f"{s[0]} {s[1]} {s[2]:g}" for x in args.skip.split(","))]
    clf = DigitClassifier.from_pretrained(adapter.weights_root / "mnist-classifier").eval()
    real = load_mnist(args.data_dir)
    with torch.no_grad():
        real_feats = clf.features(torch.from_numpy(real.images[-2000:].astype(np.float32) / 255).unsqueeze(1)).numpy()

    cache_path = Path(args.cache) if args.cache else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}
    rows, per_set = [], {}
    for sampler, steps, guidance in settings:
        # The student's guidance is built in: its rows are the same whatever guidance is asked for.
        files = adapter.STUDENT_FILES if sampler == STUDENT else adapter.TEACHER_FILES
        key = f"{files_version(adapter, files)} {sampler} {steps} {'-' if sampler == STUDENT else guidance} {args.per_digit}"
        for k in range(args.seed_sets):
            set_key = key + (f" set{k}" if k else "")  # set 0 is the seeds of a run without --seed-sets
            cached = set_key in cache
            if not cached:
                cache[set_key] = measure(adapter, clf, real_feats, sampler, steps, guidance, args.per_digit, k)
                if cache_path:
                    cache_path.write_text(json.dumps(cache, indent=1) + "\n")
            per_set.setdefault((sampler, steps, guidance), []).append(cache[set_key])
            print(f"  done: {sampler} {steps} steps, guidance {guidance}, seed set {k}{' (cached)' if cached else ''}",
                  file=sys.stderr)
        rows.append((sampler, steps, guidance, cached, per_set[(sampler, steps, guidance)][0]))
    ref = None
    if args.seed_sets > 1:
        report_seed_sets(per_set, (*BASELINE, default), args.per_digit)
    else:
        ref = next((r[4] for r in rows if r[:3] == ("DDPM", 1000, default)), None)
        print(f"\ndefault guidance_scale {default}; {args.per_digit * 10} samples per setting, same seeds; FD: Frechet "
              f"distance to real MNIST digits in the classifier's features (lower is better)"
              + ("" if ref else "; no DDPM-1000 row at the default guidance, so no ratios"))
        header = (f"{'sampler':<14} {'steps':>5} {'guidance':>8} {'calls':>5} {'accuracy':>8} {'vs DDPM-1000':>12} "
                  f"{'FD':>7} {'FD ratio':>8} {'ms/image':>9}")
        print(header + "\n" + "-" * len(header))
        for sampler, steps, guidance, cached, m in rows:
            shown_guidance = f"{guidance:g}" if sampler != STUDENT else "built in"
            vs = f"{(m['accuracy'] - ref['accuracy']) * 100:>+11.1f}p" if ref else f"{'-':>12}"
            ratio = f"{m['fd'] / ref['fd']:>8.2f}" if ref else f"{'-':>8}"
            print(f"{sampler:<14} {steps:>5} {shown_guidance:>8} {network_calls(sampler, steps, guidance):>5} "
                  f"{m['accuracy']:>8.1%} {vs} {m['fd']:>7.2f} {ratio} {m['ms']:>9.1f}{'  (cached)' if cached else ''}")
        if ref:
            for sampler, steps, guidance, _, m in rows:
                if sampler != STUDENT:
                    continue
                calls = network_calls(sampler, steps, guidance)
                checks = {f"{DEFAULT_CALLS / calls:.0f}x fewer calls than {DEFAULT_CALLS}": calls * 10 <= DEFAULT_CALLS,
                          f"accuracy {(m['accuracy'] - ref['accuracy']) * 100:+.1f} points": m["accuracy"] >= ref["accuracy"] - 0.03,
                          f"FD {m['fd'] / ref['fd']:.2f}x DDPM-1000's": m["fd"] <= 1.5 * ref["fd"]}
                verdict = "meets" if all(checks.values()) else "misses"
                print(f"{sampler} {steps} steps {verdict} the target: " + ", ".join(
                    f"{k} ({'yes' if ok else 'no'})" for k, ok in checks.items()))
    if args.timing:
        timed = timing(adapter, [(*BASELINE, default)] + [s for s in settings if s[0] == STUDENT], args.timing)
        for (sampler, steps, _), ms in per_set.items():  # the card's times: the medians, not the quality run's
            if sampler == STUDENT:
                for m in ms:
                    m["ms"] = 1000 * timed[(sampler, steps, default)] / 16
    students = [(steps, m) for sampler, steps, _, _, m in rows if sampler == STUDENT]
    if args.write_card and args.seed_sets > 1 and (*BASELINE, default) in per_set:
        write_card_seed_sets(adapter, per_set, (*BASELINE, default), args.per_digit)
    elif args.write_card and students:
        write_card(adapter, students, ref, default, args.per_digit)


def spread(values) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values)


def report_seed_sets(per_set: dict, baseline: tuple, per_digit: int) -> None:
    """Mean +- spread over the seed sets, and each row's differences to the baseline paired by seed set."""
    n_sets = len(next(iter(per_set.values())))
    base = per_set.get(baseline)
    print(f"\n{per_digit * 10} samples per setting and seed set, {n_sets} disjoint seed sets, the same labels; "
          f"mean +- standard deviation over the sets; FD: Frechet distance to 2,000 real MNIST digits in the "
          f"classifier's features (lower is better); differences are paired by seed set against "
          f"{baseline[0]} {baseline[1]} steps, guidance {baseline[2]:g}")
    header = (f"{'sampler':<14} {'steps':>5} {'guidance':>8} {'calls':>5} {'accuracy':>15} {'FD':>15} "
              f"{'accuracy diff':>16} {'FD diff':>15} {'FD ratio':>8} {'ms/image':>9}")
    print(header + "\n" + "-" * len(header))
    for (sampler, steps, guidance), ms in per_set.items():
        acc, fd = spread([m["accuracy"] for m in ms]), spread([m["fd"] for m in ms])
        shown_guidance = f"{guidance:g}" if sampler != STUDENT else "built in"
        line = (f"{sampler:<14} {steps:>5} {shown_guidance:>8} {network_calls(sampler, steps, guidance):>5} "
                f"{acc[0]:>7.1%} +-{acc[1]:>5.1%} {fd[0]:>8.2f} +-{fd[1]:>4.2f}")
        if base and (sampler, steps, guidance) != baseline:
            d_acc = spread([(m["accuracy"] - b["accuracy"]) * 100 for m, b in zip(ms, base)])
            d_fd = spread([m["fd"] - b["fd"] for m, b in zip(ms, base)])
            ratio = statistics.mean(m["fd"] / b["fd"] for m, b in zip(ms, base))
            line += f" {d_acc[0]:>+7.1f}p +-{d_acc[1]:>4.1f}p {d_fd[0]:>+8.2f} +-{d_fd[1]:>4.2f} {ratio:>8.2f}"
        else:
            line += f" {'(baseline)':>16} {'':>15} {'':>8}"
        print(line + f" {statistics.median(m['ms'] for m in ms):>9.1f}")
    if not base:
        return
    for (sampler, steps, guidance), ms in per_set.items():
        if sampler != STUDENT:
            continue
        d_acc = spread([(m["accuracy"] - b["accuracy"]) * 100 for m, b in zip(ms, base)])
        d_fd = spread([m["fd"] - b["fd"] for m, b in zip(ms, base)])
        checks = {f"accuracy {d_acc[0]:+.1f} points (allowed down to {-2 * d_acc[1]:.1f})":
                  d_acc[0] >= -2 * d_acc[1],
                  f"FD {d_fd[0]:+.2f} (allowed up to +{2 * d_fd[1]:.2f})": d_fd[0] <= 2 * d_fd[1]}
        verdict = "as good as" if all(checks.values()) else "worse than"
        print(f"{sampler} {steps} steps is {verdict} {baseline[0]} {baseline[1]} steps: "
              + ", ".join(f"{k} ({'yes' if ok else 'no'})" for k, ok in checks.items()))


def timing(adapter, settings, repeats: int, num_images: int = 16) -> dict:
    """Seconds for one request of 16 images, each setting in turn, ``repeats`` rounds: medians, and each one's speed-up
    over the first setting measured in the same rounds (the ratio survives a busy machine better than the times)."""
    seconds = {s: [] for s in settings}
    for r in range(repeats):
        for s in settings:
            t = time.perf_counter()
            adapter.generate(seed=r, num_images=num_images, label="any", scheduler=s[0], num_inference_steps=s[1],
                             guidance_scale=s[2])
            seconds[s].append(time.perf_counter() - t)
    base = statistics.median(seconds[settings[0]])
    print(f"\n{num_images} images per request, median of {repeats} interleaved rounds:")
    for s, times in seconds.items():
        median = statistics.median(times)
        print(f"  {s[0]} {s[1]} steps: {median:.2f} s ({1000 * median / num_images:.0f} ms per image), "
              f"{base / median:.1f}x as fast as {settings[0][0]} {settings[0][1]} steps")
    return {s: statistics.median(times) for s, times in seconds.items()}


def write_card_seed_sets(adapter, per_set: dict, baseline: tuple, per_digit: int) -> None:
    """The student's figures over the seed sets (mean +- spread), and its differences to the 20-step DPM-Solver++
    baseline paired by set, as its scores.json and model card."""
    from genai_demo.train.common import write_model_card, write_scores

    base = per_set[baseline]
    students = [(steps, ms) for (sampler, steps, _), ms in per_set.items() if sampler == STUDENT]
    steps = " / ".join(str(n) for n, _ in students)
    n_sets = len(base)

    def each(value, fmt="{:.2f}", scale=1.0) -> str:
        return " / ".join(fmt.format(*(x * scale for x in spread([value(m, b) for m, b in zip(ms, base)])))
                          for _, ms in students)

    samples = f"{per_digit * 10} samples in each of {n_sets} disjoint seed sets; mean +- standard deviation over the sets"
    figures = {
        "settings": json.dumps({"scheduler": STUDENT, "guidance_scale": baseline[2], "guidance": "built in"}),
        f"network calls per image, {steps} steps": f"{steps} (DPM-Solver++ with 20 steps and guidance: {DEFAULT_CALLS})",
        f"classifier accuracy on the requested digit, {steps} steps":
            each(lambda m, b: m["accuracy"], "{:.1f}% +- {:.1f}", 100) + f" ({samples})",
        f"Frechet distance in classifier features (lower is better), {steps} steps":
            each(lambda m, b: m["fd"], "{:.2f} +- {:.2f}"),
        f"accuracy minus DPM-Solver++ 20 steps' (same seeds), {steps} steps":
            each(lambda m, b: m["accuracy"] - b["accuracy"], "{:+.1f} +- {:.1f} points", 100),
        f"Frechet distance minus DPM-Solver++ 20 steps' (same seeds), {steps} steps":
            each(lambda m, b: m["fd"] - b["fd"], "{:+.2f} +- {:.2f}"),
        f"milliseconds per image, {steps} steps": " / ".join(
            f"{statistics.median(m['ms'] for m in ms):.0f}" for _, ms in students) + " ms",
        "DPM-Solver++ with 20 steps and guidance 1.5 (the default before the student), classifier accuracy":
            "{:.1f}% +- {:.1f}".format(*(100 * x for x in spread([b["accuracy"] for b in base]))),
        "DPM-Solver++ with 20 steps and guidance 1.5 (the default before the student), Frechet distance":
            "{:.2f} +- {:.2f}".format(*spread([b["fd"] for b in base])),
    }
    folder = adapter.weights_dir / "student"
    write_scores(folder, f"python bench/diffusion_samplers.py --per-digit {per_digit} --seed-sets {n_sets} --compare "
                         "--write-card", figures, threads=torch.get_num_threads())
    write_model_card(folder)
    print(f"wrote {folder / 'scores.json'} and its README.md")


def write_card(adapter, students, ref, guidance, per_digit) -> None:
    """The student's figures, beside DDPM-1000's from the same seeds, as its scores.json and model card."""
    from genai_demo.train.common import write_model_card, write_scores

    steps = " / ".join(str(n) for n, _ in students)

    def each(fmt, value) -> str:
        return " / ".join(fmt.format(value(m)) for _, m in students)

    figures = {
        "settings": json.dumps({"scheduler": STUDENT, "guidance_scale": guidance, "guidance": "built in"}),
        f"network calls per image, {steps} steps": f"{steps} (the 20-step default with guidance: {DEFAULT_CALLS})",
        f"classifier accuracy on the requested digit, {steps} steps": each("{:.1%}", lambda m: m["accuracy"])
        + f" ({per_digit * 10} samples)",
        f"Frechet distance in classifier features (lower is better), {steps} steps": each("{:.2f}", lambda m: m["fd"]),
        f"milliseconds per image, {steps} steps": each("{:.0f}", lambda m: m["ms"]) + " ms",
    }
    if ref:  # DDPM-1000 from the same seeds, where this run has it
        figures.update({
            f"Frechet distance relative to DDPM with 1,000 steps, {steps} steps":
                each("{:.2f}", lambda m: m["fd"] / ref["fd"]),
            "DDPM with 1,000 steps (the reference), classifier accuracy": f"{ref['accuracy']:.1%} ({per_digit * 10} samples)",
            "DDPM with 1,000 steps (the reference), Frechet distance": f"{ref['fd']:.2f}",
        })
    folder = adapter.weights_dir / "student"
    write_scores(folder, f"python bench/diffusion_samplers.py --per-digit {per_digit} --write-card", figures,
                 threads=torch.get_num_threads())
    write_model_card(folder)
    print(f"wrote {folder / 'scores.json'} and its README.md")


if __name__ == "__main__":
    main()
