"""The chorale model's figures: likelihood against a unigram baseline, musical counts against real chorales, speed.

    python bench/audio_bench.py [--weights-dir weights] [--pieces 40] [--runs 5] [--write-card]

1. Held-out negative log-likelihood per note token (pitch, hold or rest) of the shipped ``audio/chorale``, and of a
   unigram model fitted on the same training chorales' tokens, in the same run: their ratio (target <= 0.6).
2. Generated pieces (``--pieces``, 8 bars each, half major and half minor, default settings, seeds 0..N-1), with
   the sampler's parallel-fifths rule (the default) and without it (the model alone), against the first 8 bars of
   each held-out real chorale, by simple counts: share of notes in the key (C major; A minor
   with its raised 6th and 7th), share of each voice's notes inside the real chorales' range for that voice, and
   parallel fifths and octaves per 100 notes (target: at most twice the real rate).
3. Time to write 8 bars (tokens only, the adapter's sampler, default settings) and to render 30 s of audio
   (organ and choir synthesis with reverb), medians of ``--runs`` (targets 5 s and 1 s).

``--write-card`` saves the figures to ``weights/audio-chorale/scores.json`` and rewrites the model card.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def counts(pieces: list[tuple[list, str]], ranges: dict) -> dict:
    from genai_demo.data.chorales import VOICES
    from genai_demo.music import in_key_share, parallel_fifths_octaves

    notes = [n for p, _ in pieces for n in p]
    in_key = sum(in_key_share(p, mode) * len(p) for p, mode in pieces) / max(1, len(notes))
    in_range = sum(ranges[VOICES[n.voice]][0] <= n.pitch <= ranges[VOICES[n.voice]][1] for n in notes) / len(notes)
    parallels = sum(parallel_fifths_octaves(p) for p, _ in pieces)
    return {"notes": len(notes), "in_key": in_key, "in_range": in_range,
            "parallels_per_100": 100 * parallels / max(1, len(notes)),
            "notes_per_bar": len(notes) / max(1, 8 * len(pieces))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", help="weights root (default: the repository's weights/)")
    parser.add_argument("--pieces", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import torch

    from genai_demo.adapters.chorale import ChoraleAdapter
    from genai_demo.data.chorales import BOS, MAJOR, MINOR, TOKENS_PER_BAR, load_chorales, split
    from genai_demo.models.chorale import nll_per_token, sample, unigram_nll, voice_ranges
    from genai_demo.music import notes_of, synthesize
    from genai_demo.runtime import configure_torch

    configure_torch()
    adapter = ChoraleAdapter(args.weights_dir)
    model = adapter.load()
    train, val = split(load_chorales())
    train_tokens, val_tokens = [c.tokens for c in train], [c.tokens for c in val]

    model_nll = nll_per_token(model, val_tokens)
    uni = unigram_nll(train_tokens, val_tokens)
    print(f"held-out NLL per note token: model {model_nll:.4f} nats, unigram {uni:.4f} nats, "
          f"ratio {model_nll / uni:.3f} (target <= 0.6); {len(val)} held-out chorales")

    ranges = voice_ranges(train_tokens)
    real = [(notes_of(c.tokens[: 2 + 8 * TOKENS_PER_BAR]), c.mode) for c in val]
    generated = {True: [], False: []}  # forbid_parallels on (the default) and off (the model alone)
    for rule in generated:
        for seed in range(args.pieces):
            mode = "major" if seed % 2 == 0 else "minor"
            result = adapter.generate(num_bars=8, mode=mode, seed=seed, forbid_parallels=rule)
            generated[rule].append((notes_of(result.info["tokens"]), mode))
    r, g, alone = counts(real, ranges), counts(generated[True], ranges), counts(generated[False], ranges)
    print(f"\n{'':<34}{'real (held out)':>16}{'generated':>12}{'model alone':>13}")
    print(f"{'pieces of 8 bars':<34}{len(real):>16}{len(generated[True]):>12}{len(generated[False]):>13}")
    for name, key, fmt in (("notes per bar", "notes_per_bar", ".1f"), ("notes in the key", "in_key", ".1%"),
                           ("notes inside the voice ranges", "in_range", ".1%"),
                           ("parallel 5ths/8ves per 100 notes", "parallels_per_100", ".2f")):
        print(f"{name:<34}{r[key]:>16{fmt}}{g[key]:>12{fmt}}{alone[key]:>13{fmt}}")
    ratio = g["parallels_per_100"] / max(1e-9, r["parallels_per_100"])
    ratio_alone = alone["parallels_per_100"] / max(1e-9, r["parallels_per_100"])
    print(f"parallels: {ratio:.2f}x the real rate with the rule (the default), {ratio_alone:.2f}x from the model "
          "alone (target <= 2x)")

    write_times = []
    for run in range(args.runs):
        started = time.perf_counter()
        for _ in sample(model, [BOS, MAJOR if run % 2 == 0 else MINOR], 8, torch.Generator().manual_seed(run),
                        temperature=0.9, forbid_parallels=True):  # the adapter's defaults
            pass
        write_times.append(time.perf_counter() - started)
    long_piece = notes_of(adapter.generate(num_bars=10, tempo=80, seed=0).info["tokens"])  # 10 bars at 80 = 30 s
    render_times = {}
    for instrument in ("organ", "choir"):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            audio = synthesize(long_piece, 80, instrument)
            times.append(time.perf_counter() - started)
        render_times[instrument] = (statistics.median(times), len(audio) / 22050)
    w = statistics.median(write_times)
    print(f"\nwrite 8 bars ({8 * TOKENS_PER_BAR} tokens): median {w:.2f} s over {args.runs} runs (target 5 s)")
    for instrument, (t, seconds) in render_times.items():
        print(f"render {seconds:.1f} s of {instrument} audio: median {t:.3f} s (target 1 s for 30 s)")
    print(f"(torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__})")

    if args.write_card:
        from genai_demo.train.chorale import write_card
        from genai_demo.train.common import write_scores

        figures = {
            "held-out NLL per note token, model / unigram": f"{model_nll:.4f} / {uni:.4f} nats (ratio {model_nll / uni:.3f})",
            "notes in the key, generated / real": f"{g['in_key']:.1%} / {r['in_key']:.1%}",
            "notes inside the voice ranges, generated / real": f"{g['in_range']:.1%} / {r['in_range']:.1%}",
            "parallel fifths and octaves per 100 notes, generated / real":
                f"{g['parallels_per_100']:.2f} / {r['parallels_per_100']:.2f} ({ratio:.2f}x; forbid_parallels on, the "
                f"default)",
            "the same from the model alone (forbid_parallels off)":
                f"{alone['parallels_per_100']:.2f} per 100 notes ({ratio_alone:.2f}x the real rate), notes in the key "
                f"{alone['in_key']:.1%}",
            "notes per bar, generated / real": f"{g['notes_per_bar']:.1f} / {r['notes_per_bar']:.1f}",
            "pieces compared": f"{args.pieces} generated (8 bars, defaults) / {len(real)} held-out chorales (first 8 bars)",
            "time to write 8 bars (median)": f"{w:.2f} s",
            "time to render 30 s of organ audio (median)": f"{render_times['organ'][0]:.3f} s",
        }
        write_scores(adapter.weights_dir, "python bench/audio_bench.py --write-card", figures,
                     threads=torch.get_num_threads())
        write_card(adapter.weights_dir)
        print(f"wrote {adapter.weights_dir / 'scores.json'} and the model card")


if __name__ == "__main__":
    main()
