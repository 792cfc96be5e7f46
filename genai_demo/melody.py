"""A visitor's melody: note names typed in a box, or the top line of a small MIDI file, on the chorale grid.

A melody is written as note names with lengths in quarter notes (``C4 D4 E4:2 R:0.5 F#4:1.5``): a letter A to G,
an optional sharp (``#``) or flat (``b``), an octave (middle C is ``C4``), then ``:`` and a length (1 when left
out; ``0.5`` is an eighth, the grid's step). ``R`` is a rest, ``|`` a bar line (ignored). ``parse_melody`` turns
it into notes on the eighth-note grid of ``genai_demo.data.chorales``; ``read_midi_melody`` reads a standard MIDI
file, byte by byte, without any music package, and keeps its highest voice.

The chorale model writes in C major or A minor only, so ``to_model_key`` finds the melody's key (the
Krumhansl-Kessler key profiles, correlated with how long each pitch class sounds) and the transposition that
moves it there while keeping it inside the soprano's range. Nothing here imports torch.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

from genai_demo.data.chorales import STEPS_PER_BAR, STEPS_PER_QUARTER

MAX_BARS = 24  # the chorale model's longest piece
MAX_MIDI_BYTES = 64 * 1024  # a melody of 24 bars is a few kB; anything much larger is not a melody to harmonise
LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_NOTE = re.compile(r"([A-Ga-g])([#♯]{0,2}|[b♭]{0,2})(-?\d)")
_LENGTH = re.compile(r"\d+(\.\d+)?|\d+/\d+|\.\d+")


class MelodyError(ValueError):
    """A melody that cannot be used. ``reason`` names the problem (a message key: ``error:melody_<reason>``) and
    ``details`` fill that message; ``str()`` is the English line for the API and the CLI."""

    def __init__(self, message: str, reason: str, **details):
        super().__init__(message)
        self.reason, self.details = reason, details


@dataclass(frozen=True)
class MelodyNote:
    pitch: int | None  # MIDI pitch; None for a rest
    steps: int  # length in grid steps (eighth notes)


def note_name(pitch: int, flats: bool = False) -> str:
    return f"{(FLAT_NAMES if flats else SHARP_NAMES)[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch(word: str) -> int | None:
    """``C4`` -> 60, ``Bb3`` -> 58, ``F##4`` -> 67; None if ``word`` is not a note name."""
    m = _NOTE.fullmatch(word)
    if not m:
        return None
    letter, accidental, octave = m.groups()
    shift = accidental.count("#") + accidental.count("♯") - accidental.count("b") - accidental.count("♭")
    return (int(octave) + 1) * 12 + LETTERS[letter.upper()] + shift


def parse_length(text: str) -> float | None:
    """A length in quarter notes, as written: ``2``, ``0.5``, ``.5``, ``1/2``; None if it is not a number."""
    if not _LENGTH.fullmatch(text):
        return None
    if "/" in text:
        top, bottom = text.split("/")
        return int(top) / int(bottom) if int(bottom) else None
    return float(text)


def parse_melody(text: str, pitch_range: tuple[int, int]) -> list[MelodyNote]:
    """The notes and rests of a typed melody; a ``MelodyError`` naming the first word that cannot be used."""
    words = [w for w in re.split(r"[\s,;]+", text.strip()) if w and w != "|"]
    if not words:
        raise MelodyError("the melody is empty: write note names with lengths, e.g. C4 D4 E4:2", "empty")
    low, high = pitch_range
    notes, total = [], 0
    for word in words:
        name, _, length_text = word.partition(":")
        length = parse_length(length_text) if length_text else 1.0
        if length is None or length <= 0:
            raise MelodyError(f"{word[:20]!r} has a length that is not a positive number of quarter notes "
                              f"(e.g. C4:2 for a half note, C4:0.5 for an eighth)", "length", word=word[:20])
        steps = length * STEPS_PER_QUARTER
        if abs(steps - round(steps)) > 1e-9:
            raise MelodyError(f"{word[:20]!r} is shorter or longer than the grid allows: lengths are whole eighth "
                              f"notes (0.5, 1, 1.5, 2...)", "grid", word=word[:20])
        if name.upper() in ("R", "REST"):
            pitch = None
        else:
            pitch = parse_pitch(name)
            if pitch is None:
                raise MelodyError(f"{word[:20]!r} is not a note name: write a letter A to G, an optional # or b and "
                                  f"an octave, e.g. C4, F#4, Bb3 (R is a rest)", "name", word=word[:20])
            if not low <= pitch <= high:
                raise MelodyError(f"{name} is outside the soprano's range, {note_name(low)} to {note_name(high)}",
                                  "range", word=name, low=note_name(low), high=note_name(high))
        total += round(steps)
        if total > MAX_BARS * STEPS_PER_BAR:
            raise MelodyError(f"the melody is longer than {MAX_BARS} bars of 4/4", "too_long", bars=MAX_BARS)
        notes.append(MelodyNote(pitch, round(steps)))
    if all(n.pitch is None for n in notes):
        raise MelodyError("the melody has only rests: write at least one note", "no_notes")
    return notes


def melody_text(notes: list[MelodyNote], flats: bool = False) -> str:
    """The notes written back as text (``C4 D4 E4:2``), the box's own notation."""
    def length(steps: int) -> str:
        q = steps / STEPS_PER_QUARTER
        return "" if q == 1 else f":{q:g}"

    return " ".join(f"{'R' if n.pitch is None else note_name(n.pitch, flats)}{length(n.steps)}" for n in notes)


def num_bars(notes: list[MelodyNote]) -> int:
    return max(1, math.ceil(sum(n.steps for n in notes) / STEPS_PER_BAR))


# -- the key, and the model's key ---------------------------------------------------------------------------------

# Krumhansl and Kessler (1982): how well each pitch class fits a major or minor key on its tonic, from listeners.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
SCALE_STEPS = {"major": {0, 2, 4, 5, 7, 9, 11}, "minor": {0, 2, 3, 5, 7, 8, 10, 11}}  # minor: its leading tone too


def _correlation(a, b) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    den = math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))
    return num / den if den else 0.0


def find_key(notes: list[MelodyNote]) -> tuple[int, str]:
    """(tonic pitch class, "major" or "minor"): first the keys whose scale holds the most of the melody (by how long
    each note sounds), since the model harmonises within its key; among those, the one whose Krumhansl-Kessler
    profile correlates best with the melody's durations per pitch class (Krumhansl-Schmuckler). On the soprano lines
    of bench/harmonise_bench.py this finds the chorale's own key more often than the profiles alone."""
    weights = [0.0] * 12
    for n in notes:
        if n.pitch is not None:
            weights[n.pitch % 12] += n.steps
    total = sum(weights) or 1.0
    best, key = None, (0, "major")
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            share = sum(w for pc, w in enumerate(weights) if (pc - tonic) % 12 in SCALE_STEPS[mode]) / total
            r = _correlation(weights, [profile[(pc - tonic) % 12] for pc in range(12)])
            score = (round(share, 9), r)
            if best is None or score > best:
                best, key = score, (tonic, mode)
    return key


def to_model_key(notes: list[MelodyNote], model_range: tuple[int, int],
                 key: tuple[int, str] | None = None) -> tuple[int, str]:
    """(semitones to add, mode): the shift that takes the melody's key (``key``, or the one ``find_key`` hears) to
    C major or A minor, the smallest that keeps every note inside ``model_range`` (the soprano's range in the
    chorales the model learned)."""
    tonic, mode = key or find_key(notes)
    base = ((0 if mode == "major" else 9) - tonic) % 12
    pitches = [n.pitch for n in notes if n.pitch is not None]
    for shift in sorted((base, base - 12, base + 12, base - 24), key=abs):
        if model_range[0] <= min(pitches) + shift and max(pitches) + shift <= model_range[1]:
            return shift, mode
    raise MelodyError(f"the melody spans {note_name(min(pitches))} to {note_name(max(pitches))}: too wide to move "
                      f"into C major or A minor inside the soprano's range", "too_wide",
                      low=note_name(min(pitches)), high=note_name(max(pitches)))


# -- MIDI files ----------------------------------------------------------------------------------------------------

def _varlen(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if i >= end:
            raise MelodyError("the MIDI file ends in the middle of an event", "midi_broken")
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i
    raise MelodyError("the MIDI file has a number longer than MIDI allows", "midi_broken")


def _track_notes(data: bytes, i: int, end: int) -> list[tuple[int, int, int]]:
    """(start tick, end tick, pitch) of each note of one track (drums, MIDI channel 10, left out)."""
    now, status, sounding, notes = 0, None, {}, []
    while i < end:
        delta, i = _varlen(data, i, end)
        now += delta
        if i >= end:
            raise MelodyError("the MIDI file ends in the middle of an event", "midi_broken")
        if data[i] & 0x80:
            status = data[i]
            i += 1
        elif status is None:
            raise MelodyError("the MIDI file has an event without a status byte", "midi_broken")
        if status == 0xFF:  # meta event: type, length, data
            if i >= end:
                raise MelodyError("the MIDI file ends in the middle of an event", "midi_broken")
            length, i = _varlen(data, i + 1, end)
            i += length
            status = None
            continue
        if status in (0xF0, 0xF7):  # system exclusive: length, data
            length, i = _varlen(data, i, end)
            i += length
            status = None
            continue
        kind, channel = status & 0xF0, status & 0x0F
        size = 1 if kind in (0xC0, 0xD0) else 2
        if i + size > end:
            raise MelodyError("the MIDI file ends in the middle of an event", "midi_broken")
        args = data[i : i + size]
        i += size
        if channel == 9 or kind not in (0x80, 0x90):
            continue
        pitch, velocity = args[0] & 0x7F, args[1] & 0x7F
        if kind == 0x90 and velocity:
            sounding.setdefault(pitch, now)
        elif pitch in sounding:
            start = sounding.pop(pitch)
            if now > start:
                notes.append((start, now, pitch))
    return notes


def read_midi_melody(data: bytes) -> list[MelodyNote]:
    """The highest line of a standard MIDI file (at each onset its highest note, until the next onset), on the
    eighth-note grid, at most ``MAX_BARS`` bars; a ``MelodyError`` for anything that is not a usable MIDI file."""
    if len(data) > MAX_MIDI_BYTES:
        raise MelodyError(f"the file is {len(data):,} bytes; a melody's MIDI file must be at most "
                          f"{MAX_MIDI_BYTES // 1024} kB", "midi_large", kb=MAX_MIDI_BYTES // 1024)
    if data[:4] != b"MThd" or len(data) < 14:
        raise MelodyError("this is not a MIDI file (it does not start with a MIDI header)", "midi_not")
    header_len, _, n_tracks, division = struct.unpack(">IHHH", data[4:14])
    if division & 0x8000 or division == 0:
        raise MelodyError("this MIDI file counts time in SMPTE frames, not beats", "midi_broken")
    i, notes = 8 + header_len, []
    for _ in range(n_tracks):
        if i + 8 > len(data):
            break
        kind, length = data[i : i + 4], struct.unpack(">I", data[i + 4 : i + 8])[0]
        start, i = i + 8, i + 8 + length
        if i > len(data):
            raise MelodyError("the MIDI file is cut short: a track is longer than the file", "midi_broken")
        if kind == b"MTrk":
            notes += _track_notes(data, start, i)
    per_step = division / STEPS_PER_QUARTER
    limit = MAX_BARS * STEPS_PER_BAR
    onsets: dict[int, tuple[int, int]] = {}  # grid step -> (pitch, end step) of the highest note starting there
    for start, end, pitch in notes:
        s = round(start / per_step)
        e = max(s + 1, round(end / per_step))
        if s < limit and (s not in onsets or pitch > onsets[s][0]):
            onsets[s] = (pitch, e)
    if not onsets:
        raise MelodyError("the MIDI file has no notes", "midi_empty")
    line, now = [], min(onsets)
    steps = sorted(onsets)
    for k, s in enumerate(steps):
        pitch, e = onsets[s]
        next_start = steps[k + 1] if k + 1 < len(steps) else min(e, limit)
        if s > now and line:  # silence since the last note ended
            line.append(MelodyNote(None, s - now))
        end = min(e, next_start) if k + 1 < len(steps) else min(e, limit)
        line.append(MelodyNote(pitch, end - s))
        now = end
    return line


def fit_octave(notes: list[MelodyNote], pitch_range: tuple[int, int]) -> tuple[list[MelodyNote], int]:
    """The melody moved by whole octaves into ``pitch_range`` if it is outside and fits there (shift 0 otherwise)."""
    pitches = [n.pitch for n in notes if n.pitch is not None]
    if pitch_range[0] <= min(pitches) and max(pitches) <= pitch_range[1]:
        return notes, 0
    for octaves in sorted(range(-4, 5), key=abs):
        shift = 12 * octaves
        if pitch_range[0] <= min(pitches) + shift and max(pitches) + shift <= pitch_range[1]:
            return [MelodyNote(None if n.pitch is None else n.pitch + shift, n.steps) for n in notes], shift
    return notes, 0
