"""'Harmonise a melody' figures: real chorale melodies and simple tunes, harmonised by the shipped chorale model.

    python bench/harmonise_bench.py [--weights-dir weights] [--lines 50] [--bars 4] [--seed 0]

Melodies: the soprano parts of held-out Bach chorales (the ~10% the model never trained on; bars 1-4 of each, then
bars 5-8 and so on while more lines are needed), moved back to each chorale's own key (B minor, E-flat major...)
and written as the page's text (``C4 D4 E4:2``), plus four simple tunes (Ode to Joy, Twinkle twinkle, Nun danket alle Gott, and
a minor one). Each goes through ``audio/harmonise`` as a visitor's would: the text is parsed, its key found (or
given), moved to C major / A minor, harmonised and moved back; with the rule against parallels on and off.

Counts, over all the lines:
- the soprano exactly as entered (every note's pitch, start and length; target: all of them);
- notes in key: the share of all four voices' notes in the key the model wrote in (C major; A minor with its raised
  6th and 7th), as bench/audio_bench.py counts it (target >= 95%);
- parallel fifths and octaves (target: none with the rule on);
- how often the key found from the melody alone is the chorale's own key (music21's analysis of all four voices).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TUNES = {  # name -> (melody, its key)
    "Ode to Joy": (None, "C major"),  # filled from the adapter's presets below
    "Twinkle, twinkle": (None, "C major"),
    "Nun danket alle Gott": (None, "G major"),
    "Greensleeves (opening)": ("A4:1 C5:2 D5:1 E5:1.5 F5:0.5 E5:1 D5:2 B4:1 G4:1.5 A4:0.5 B4:1 C5:2 A4:1 "
                               "A4:1.5 G#4:0.5 A4:1 B4:2 G#4:1 E4:2", "A minor"),
}


def soprano_lines(count: int, bars: int) -> list[tuple[str, str, str]]:
    """(label, melody text, key) of ``count`` soprano lines of held-out chorales, in their own keys."""
    from genai_demo.adapters.harmonise import MUSIC21_TONICS
    from genai_demo.data.chorales import TOKENS_PER_BAR, load_chorales, split, tokens_to_voices
    from genai_demo.melody import MelodyNote, melody_text

    _, held_out = split(load_chorales())
    lines = []
    for start_bar in range(0, 64, bars):
        for c in held_out:
            if len(lines) == count:
                return lines
            if c.num_bars < start_bar + bars:
                continue
            body = c.tokens[2 + start_bar * TOKENS_PER_BAR : 2 + (start_bar + bars) * TOKENS_PER_BAR]
            soprano = tokens_to_voices(c.tokens[:2] + body)[0]  # (pitch, start, length) in C major / A minor
            if not soprano:
                continue
            tonic_name, mode = c.original_key.split(" ")
            tonic = MUSIC21_TONICS.index(tonic_name) if tonic_name in MUSIC21_TONICS else None
            if tonic is None:  # music21 spells some keys with sharps where the table has flats (D- for C#)
                tonic = {"D-": 1, "D#": 3, "G-": 6, "G#": 8, "A#": 10, "C-": 11, "E#": 5, "F-": 4}[tonic_name]
            shift = ((tonic - (0 if mode == "major" else 9)) + 6) % 12 - 6  # back to the chorale's own key
            notes, now = [], 0
            for pitch, start, length in soprano:
                if start > now:
                    notes.append(MelodyNote(None, start - now))
                notes.append(MelodyNote(pitch + shift, length))
                now = start + length
            while notes and notes[0].pitch is None:  # a pickup's padding: the melody starts on its first note
                notes.pop(0)
            lines.append((f"{c.name} bars {start_bar + 1}-{start_bar + bars}", melody_text(notes), c.original_key))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", help="weights root (default: the repository's weights/)")
    parser.add_argument("--lines", type=int, default=50, help="soprano lines of held-out chorales")
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from genai_demo.adapters.harmonise import NUN_DANKET, ODE_TO_JOY, TWINKLE, HarmoniseAdapter, parse_key
    from genai_demo.melody import MelodyError, find_key, parse_melody
    from genai_demo.music import in_key_share, notes_of, parallel_fifths_octaves
    from genai_demo.runtime import configure_torch

    configure_torch()
    adapter = HarmoniseAdapter(args.weights_dir)
    tunes = dict(zip(TUNES, (ODE_TO_JOY, TWINKLE, NUN_DANKET, TUNES["Greensleeves (opening)"][0])))
    melodies = soprano_lines(args.lines, args.bars) + [(name, tunes[name], key) for name, (_, key) in TUNES.items()]
    print(f"{len(melodies)} melodies: {len(melodies) - len(TUNES)} held-out chorale soprano lines of {args.bars} bars "
          f"and {len(TUNES)} tunes")

    key_right, refused = 0, []
    for label, melody, key in melodies:
        found = find_key(parse_melody(melody, adapter.soprano_range))
        key_right += found == parse_key(_spelled(key))
    print(f"key found from the melody alone = the chorale's own key: {key_right} of {len(melodies)}")

    print("\n| key | rule | melodies | soprano as entered | notes in key | parallel 5ths/8ves | per 100 notes | "
          "seconds per melody |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key_choice, rule in (("auto", True), ("auto", False), ("given", True)):
        exact = in_key = notes = parallels = done = 0
        started = time.perf_counter()
        for i, (label, melody, key) in enumerate(melodies):
            values = dict(melody=melody, forbid_parallels=rule, seed=args.seed + i,
                          key="auto" if key_choice == "auto" else _spelled(key))
            try:
                result = adapter.generate(**values)
            except MelodyError as e:  # noqa: PERF203
                refused.append((label, str(e)))
                continue
            done += 1
            tokens, mode = result.info["tokens"], result.info["mode"]
            model_notes = notes_of(tokens)  # in C major / A minor, where the key is counted
            written = notes_of(tokens, result.info["transposed"])
            entered = [(n.pitch, n.steps) for n in parse_melody(melody, adapter.soprano_range)]
            sung, now = [], 0
            for n in (n for n in written if n.voice == 0):
                if n.start > now:
                    sung.append((None, n.start - now))
                sung.append((n.pitch, n.length))
                now = n.start + n.length
            exact += sung == entered
            in_key += in_key_share(model_notes, mode) * len(model_notes)
            notes += len(model_notes)
            parallels += parallel_fifths_octaves(written)
        seconds = (time.perf_counter() - started) / max(1, done)
        print(f"| {key_choice} | {'on' if rule else 'off'} | {done} | {exact} of {done} | {in_key / notes:.1%} | "
              f"{parallels} | {100 * parallels / notes:.2f} | {seconds:.2f} |")
    for label, why in refused:
        print(f"refused: {label}: {why}")


def _spelled(key: str) -> str:
    """A key as the adapter's choices spell it (flats with '-', as music21): "D- major" -> "C# major"."""
    tonic, mode = key.split(" ")
    same = {"D-": "C#", "D#": "E-", "G-": "F#", "G#": "A-", "A#": "B-", "C-": "B", "E#": "F", "F-": "E"}
    return f"{same.get(tonic, tonic)} {mode}"


if __name__ == "__main__":
    main()
