"""Bach's four-part chorales as tokens: the data of ``audio/chorale``.

music21 bundles J. S. Bach's chorale harmonisations (413 ``bwv*`` files under ``corpus/bach``). This module
parses them, keeps the ones a beginner's model can learn as one family, and writes each as a flat sequence of
tokens, the way a language model reads text.

The encoding, and why
---------------------
* **Four voices on an eighth-note grid.** Time is cut into eighth notes. At each step the four voices are written
  in order soprano, alto, tenor, bass, each as one token: a pitch (a new note starts), ``hold`` (the voice's
  note goes on sounding) or ``rest``. This is the grid of DeepBach and Coconet (the model behind Google's Bach
  Doodle), coarsened from sixteenths to eighths: eighths carry almost every note of the chorales, and halve the
  sequence, so a small CPU-trained model sees twice as much music at once. The cost: the first of two
  sixteenth notes is kept and the second dropped (0.6% of the notes of the first 80 files).
* **A bar token** opens every bar (eight steps of 4/4, so 33 tokens a bar). The model then always knows where
  the strong beats are, and "8 bars" is simply eight bar tokens.
* **Key normalised.** Each chorale is transposed to C major or A minor (the key music21's Krumhansl analysis
  finds, moved by at most a tritone), and a ``major``/``minor`` token after ``<s>`` says which. Every chorale
  then uses the same scale, so about 300 chorales are enough to learn harmony, and the app can transpose the result
  to any key when it plays it.
* Only chorales with exactly four voices in 4/4 are kept (most of them); a pickup bar is padded with rests in
  front so bar lines fall every eight steps. Fermatas, ties across repeated notes and lyrics are not encoded.

Parsing every chorale takes about a minute, so the encoded set is cached as JSON (``chorales.json``) in a
cache folder; the cache is rebuilt when this encoding's version changes. Validation chorales are chosen by a
hash of the chorale's name (about 10%), so the split never changes when files are added.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from genai_demo.contract import GenAIError

ENCODING_VERSION = 2
STEPS_PER_QUARTER = 2  # an eighth-note grid
STEPS_PER_BAR = 8  # 4/4
VOICES = ("soprano", "alto", "tenor", "bass")
LOWEST, HIGHEST = 33, 84  # MIDI pitches the vocabulary spells (A1 to C6); chorales outside after transposing are left out
SPECIALS = ("<s>", "major", "minor", "bar", "hold", "rest")
VALIDATION_PERCENT = 10
ENV_VAR = "GENAI_CHORALE_CACHE"


class ChoraleError(GenAIError):
    """The chorales could not be read or parsed; the message says what to do."""


# -- vocabulary -----------------------------------------------------------------------------------------------

def vocabulary() -> list[str]:
    """Every token, in id order: the special tokens, then the pitches as MIDI numbers ("60" is middle C)."""
    return list(SPECIALS) + [str(p) for p in range(LOWEST, HIGHEST + 1)]


VOCAB = vocabulary()
ID = {tok: i for i, tok in enumerate(VOCAB)}
BOS, MAJOR, MINOR, BAR, HOLD, REST = (ID[t] for t in SPECIALS)
FIRST_PITCH = len(SPECIALS)
TOKENS_PER_BAR = 1 + STEPS_PER_BAR * len(VOICES)


def pitch_id(midi: int) -> int:
    return FIRST_PITCH + midi - LOWEST


def id_pitch(token: int) -> int | None:
    """The MIDI pitch a token spells, or None for a special token."""
    return token - FIRST_PITCH + LOWEST if token >= FIRST_PITCH else None


# -- the encoded set --------------------------------------------------------------------------------------------

@dataclass
class Chorale:
    name: str  # "bwv269"
    title: str  # the chorale's title, when the file has one
    mode: str  # "major" or "minor"
    original_key: str  # the key Bach wrote it in, e.g. "G major"
    tokens: list[int]  # <s>, mode, then bars of 33 tokens

    @property
    def num_bars(self) -> int:
        return (len(self.tokens) - 2) // TOKENS_PER_BAR

    def opening(self, bars: int) -> list[int]:
        """``<s>``, the mode and the first ``bars`` bars."""
        return self.tokens[: 2 + bars * TOKENS_PER_BAR]

    @property
    def label(self) -> str:
        return f"{self.name.upper().replace('BWV', 'BWV ')}: {self.title} ({self.original_key})" if self.title \
            else f"{self.name.upper().replace('BWV', 'BWV ')} ({self.original_key})"


def is_validation(name: str) -> bool:
    """About 10% of chorales, chosen by a hash of the name: the same split on every machine."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100 < VALIDATION_PERCENT


def steps_to_tokens(grid: list[list[int]], mode: str) -> list[int]:
    """A grid of steps (each four token ids, S A T B), padded to whole bars, as the token sequence."""
    tokens = [BOS, MAJOR if mode == "major" else MINOR]
    for start in range(0, len(grid), STEPS_PER_BAR):
        tokens.append(BAR)
        for step in grid[start : start + STEPS_PER_BAR]:
            tokens.extend(step)
    return tokens


def tokens_to_voices(tokens: list[int]) -> list[list[tuple[int, int, int]]]:
    """The notes of each voice as (MIDI pitch, start step, length in steps), read back from tokens.

    Structure tokens are skipped, so a sequence cut anywhere (a stream being generated) decodes too. A ``hold``
    with no note sounding counts as a rest.
    """
    voices: list[list[list[int]]] = [[] for _ in VOICES]
    sounding: list[list[int] | None] = [None] * len(VOICES)
    slot = 0  # position within the current step: 0..3
    step = 0
    for t in tokens:
        if t in (BOS, MAJOR, MINOR, BAR):
            continue
        v = slot
        if t == HOLD and sounding[v] is not None:
            sounding[v][2] += 1
        elif t == REST or t == HOLD:
            sounding[v] = None
        else:
            note = [id_pitch(t), step, 1]
            voices[v].append(note)
            sounding[v] = note
        slot += 1
        if slot == len(VOICES):
            slot, step = 0, step + 1
    return [[tuple(n) for n in notes] for notes in voices]


def encode_score(score, name: str) -> Chorale | None:
    """One music21 score as a Chorale, or None when it is not a four-voice 4/4 chorale in the pitch range."""
    from music21 import pitch

    parts = list(score.parts)
    if len(parts) != 4:
        return None
    signatures = score.recurse().getElementsByClass("TimeSignature")
    if not signatures or any(ts.ratioString != "4/4" for ts in signatures):
        return None
    key = score.analyze("key")
    target = pitch.Pitch("C" if key.mode == "major" else "A")
    shift = (target.midi - key.tonic.midi) % 12
    shift = shift - 12 if shift > 6 else shift  # move by at most a tritone, so voices stay in their ranges
    soprano_measures = parts[0].getElementsByClass("Measure")
    pickup = 0.0
    if soprano_measures and soprano_measures[0].duration.quarterLength < 4:
        pickup = 4 - soprano_measures[0].duration.quarterLength  # pad in front so bar lines fall every 4 quarters
    total = parts[0].highestTime + pickup
    n_steps = int(round(total * STEPS_PER_QUARTER))
    n_steps += (-n_steps) % STEPS_PER_BAR
    grid = [[REST] * len(VOICES) for _ in range(n_steps)]
    for v, part in enumerate(parts):
        for n in part.stripTies().flatten().notes:
            p = (max(n.pitches, key=lambda q: q.midi) if n.isChord else n.pitch).midi + shift
            if not LOWEST <= p <= HIGHEST:
                return None
            # A note belongs to the eighth it starts in (floor, not round: Python rounds x.5 to even, which put
            # a sixteenth on the next beat and pushed that beat's own note out).
            onset = (float(n.offset) + pickup) * STEPS_PER_QUARTER
            start = math.floor(onset + 1e-9)
            end = math.floor(onset + float(n.quarterLength) * STEPS_PER_QUARTER + 1e-9)
            length = max(1, end - start)
            if start >= n_steps or grid[start][v] != REST:
                continue  # a second note inside one eighth (a sixteenth): the first one is kept
            grid[start][v] = pitch_id(p)
            for s in range(start + 1, min(start + length, n_steps)):
                grid[s][v] = HOLD
        # The final chord sounds to the end of the last bar, not into rests.
        last = max((s for s in range(n_steps) if grid[s][v] != REST), default=None)
        if last is not None and n_steps - last <= STEPS_PER_BAR:
            for s in range(last + 1, n_steps):
                grid[s][v] = HOLD
    title = (score.metadata.title if score.metadata and score.metadata.title else "") or ""
    return Chorale(name=name, title=title.strip(), mode=key.mode, original_key=f"{key.tonic.name} {key.mode}",
                   tokens=steps_to_tokens(grid, key.mode))


def corpus_paths() -> list[Path]:
    """The chorale files music21 bundles (``bwv*.mxl``), sorted by name."""
    try:
        from music21 import corpus
    except ImportError:
        raise ChoraleError("music21 is not installed: pip install -r requirements.txt") from None
    return sorted((Path(p) for p in corpus.getComposer("bach") if Path(p).name.startswith("bwv")),
                  key=lambda p: p.name)


def default_cache_dir() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genai_demo" / "chorales"


def parse_chorales(paths: list[Path] | None = None, progress: bool = True) -> list[Chorale]:
    """Parse and encode chorale files (default: music21's whole Bach corpus); others are skipped."""
    from music21 import converter

    paths = corpus_paths() if paths is None else paths
    out, names = [], set()
    iterator = paths
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(paths, desc="parsing chorales", unit="file")
    for path in iterator:
        name = Path(path).name.split(".mxl")[0].split(".xml")[0].split(".krn")[0]
        if name in names:
            continue
        try:
            chorale = encode_score(converter.parse(path), name)
        except Exception:  # a file music21 cannot read, or an odd score: skip it, like any non-chorale
            chorale = None
        if chorale is not None:
            out.append(chorale)
            names.add(name)
    return out


def load_chorales(cache_dir: str | Path | None = None, paths: list[Path] | None = None,
                  progress: bool = True) -> list[Chorale]:
    """The encoded chorales, from the cache if it is there and current, else parsed (and then cached)."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    file = cache / "chorales.json"
    if file.is_file():
        try:
            data = json.loads(file.read_text())
            if data.get("version") == ENCODING_VERSION and data.get("vocab") == VOCAB:
                return [Chorale(**c) for c in data["chorales"]]
        except (ValueError, TypeError, KeyError):
            pass  # a broken or foreign cache: parse again
    chorales = parse_chorales(paths, progress=progress)
    if not chorales:
        raise ChoraleError("no four-voice 4/4 chorales were found to encode")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".part")
        tmp.write_text(json.dumps({"version": ENCODING_VERSION, "vocab": VOCAB,
                                   "chorales": [c.__dict__ for c in chorales]}))
        tmp.replace(file)
    except OSError:
        pass  # a read-only cache folder only costs time
    return chorales


def split(chorales: list[Chorale]) -> tuple[list[Chorale], list[Chorale]]:
    """(training, validation) chorales."""
    return [c for c in chorales if not is_validation(c.name)], [c for c in chorales if is_validation(c.name)]
