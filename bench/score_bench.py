"""'Score my text' figures: held-out Shakespeare's perplexity as the page reads a text, a few texts beside it, speed.

    python bench/score_bench.py [--data-dir ../shared/data] [--runs 5] [--write]

1. Perplexity per character of the shipped Shakespeare GPT on the held-out last 10% of Tiny Shakespeare, read
   exactly as ``text/score`` reads a visitor's text (``models.charlm.score_ids``: windows of the 256-character
   context overlapping by half, every character scored from at least 128 characters before it, the text started
   from a new line). ``--write`` ships it as ``weights/text-shakespeare/heldout_score.json``, the figure the page
   shows beside a visitor's perplexity.
2. The same measure for the adapter's presets (a sonnet in Shakespeare's style, a modern chat line, random letters)
   and for the first 2,000 held-out characters, through the adapter.
3. Time to score 2,000 characters through the adapter (median of ``--runs``), and one attention view.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder of tinyshakespeare.txt (default: the shared data folder)")
    parser.add_argument("--weights-dir", help="weights root (default: the repository's weights/)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="ship the held-out figure beside the weights")
    args = parser.parse_args()

    from genai_demo.adapters.score import HELDOUT_FILE, MODERN, RANDOM, SONNET, TextScoreAdapter
    from genai_demo.data.shakespeare import load_shakespeare, split
    from genai_demo.models.charlm import score_ids
    from genai_demo.runtime import configure_torch

    configure_torch()
    adapter = TextScoreAdapter(args.weights_dir)
    lm = adapter.load()
    _, held_out = split(load_shakespeare(args.data_dir))

    started = time.perf_counter()
    per_char = adapter.char_ids(lm, held_out)
    ids = adapter.start_ids(lm) + [i for c in per_char for i in c]
    scored = score_ids(lm.model, ids, num_candidates=1, batch_size=32)
    nats = scored.nats_per_token * (len(scored.logp) / sum(1 for c in per_char if c))
    heldout = {"perplexity": round(math.exp(nats), 4), "nats_per_char": round(nats, 4),
               "bits_per_char": round(nats / math.log(2), 4), "chars": sum(1 for c in per_char if c),
               "command": "python bench/score_bench.py --write"}
    print(f"held-out Shakespeare ({heldout['chars']:,} characters): perplexity {heldout['perplexity']:.3f}, "
          f"{heldout['bits_per_char']:.3f} bits/char ({time.perf_counter() - started:.1f} s)")

    print("\n| text | characters | perplexity | bits/char |\n| --- | ---: | ---: | ---: |")
    for name, text in (("sonnet 18 (preset)", SONNET), ("modern chat (preset)", MODERN),
                       ("random letters (preset)", RANDOM), ("held-out Shakespeare, first 2,000", held_out[:2000])):
        info = adapter.generate(text=text).info
        print(f"| {name} | {info['scored_chars']:,} | {info['perplexity']:.2f} | {info['bits_per_char']:.2f} |")

    text = held_out[:2000]
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        adapter.generate(text=text)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    adapter.attention(text, 1500)
    attention_s = time.perf_counter() - t
    print(f"\nscoring 2,000 characters: median {statistics.median(times) * 1000:.0f} ms of {args.runs}; "
          f"attention view at position 1,500: {attention_s * 1000:.0f} ms")
    if args.write:
        path = adapter.weights_dir / HELDOUT_FILE
        path.write_text(json.dumps(heldout, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
