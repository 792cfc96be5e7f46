"""Chorale tokens made audible and visible: notes, a MIDI file, a piano roll, synthesised sound, simple counts.

Everything here is numpy, PIL and the standard library, so rendering costs milliseconds and needs no sound
card, soundfont or network. The sound is additive synthesis: each note is a sum of harmonics with an
envelope, then the whole piece goes through a short synthetic room reverb.

* ``organ``: a pipe-organ principal stop (strong fundamental, octave and twelfth harmonics), a quick attack
  with a little "chiff" of breath noise and a short release, no vibrato: how chorales are heard in church.
* ``choir``: softer, vowel-like "ooh" harmonics, a slow swell, a gentle 5 Hz vibrato and two slightly detuned
  copies per note (a section, not a soloist).
"""

from __future__ import annotations

import functools
import io
import struct
import wave
from dataclasses import dataclass

import numpy as np

from genai_demo.data.chorales import STEPS_PER_QUARTER, VOICES, tokens_to_voices

SAMPLE_RATE = 22050
INSTRUMENTS = ("organ", "choir")
# Okabe and Ito's colour-blind-safe palette (vermillion, blue, orange, reddish purple): neighbouring voices, which
# share pitches, also differ in lightness, so they stay apart for red-green colour blindness and in grey.
VOICE_COLOURS = {"soprano": (213, 94, 0), "alto": (0, 114, 178), "tenor": (230, 159, 0), "bass": (204, 121, 167)}
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class Note:
    voice: int  # 0 soprano .. 3 bass
    pitch: int  # MIDI
    start: int  # in grid steps (eighth notes)
    length: int  # in grid steps


def notes_of(tokens: list[int], transpose: int = 0) -> list[Note]:
    """Every note of a token sequence, moved by ``transpose`` semitones, in order of start."""
    notes = [Note(v, p + transpose, s, n) for v, voice in enumerate(tokens_to_voices(tokens)) for p, s, n in voice]
    return sorted(notes, key=lambda n: (n.start, n.voice))


def seconds_per_step(tempo: float) -> float:
    """``tempo`` is in quarter notes per minute; a step is an eighth."""
    return 60.0 / tempo / STEPS_PER_QUARTER


def pitch_name(midi: int) -> str:
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


# -- MIDI -----------------------------------------------------------------------------------------------------

def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def to_midi(notes: list[Note], tempo: float, title: str = "chorale", program: int = 19) -> bytes:
    """A standard MIDI file (format 1): a tempo track and one track per voice, General MIDI ``program``
    (19 = church organ, 52 = choir aahs)."""
    ticks = 480  # per quarter
    per_step = ticks // STEPS_PER_QUARTER

    def chunk(kind: bytes, data: bytes) -> bytes:
        return kind + struct.pack(">I", len(data)) + data

    def track(events: list[tuple[int, bytes]]) -> bytes:
        data, now = b"", 0
        for time, event in sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80)):  # note-offs first
            data += _varlen(time - now) + event
            now = time
        return chunk(b"MTrk", data + b"\x00\xff\x2f\x00")

    micros = int(round(60_000_000 / tempo))
    name = title.encode("ascii", "replace")[:100]
    conductor = [(0, b"\xff\x03" + _varlen(len(name)) + name), (0, b"\xff\x51\x03" + micros.to_bytes(3, "big")),
                 (0, b"\xff\x58\x04\x04\x02\x18\x08")]  # 4/4
    tracks = [track(conductor)]
    for v, voice in enumerate(VOICES):
        label = voice.encode()
        events = [(0, b"\xff\x03" + _varlen(len(label)) + label), (0, bytes([0xC0 | v, program]))]
        for n in (n for n in notes if n.voice == v):
            events.append((n.start * per_step, bytes([0x90 | v, n.pitch, 80])))
            events.append(((n.start + n.length) * per_step, bytes([0x80 | v, n.pitch, 0])))
        tracks.append(track(events))
    return chunk(b"MThd", struct.pack(">HHH", 1, len(tracks), ticks)) + b"".join(tracks)


# -- sound ----------------------------------------------------------------------------------------------------

VOICE_GAIN = (1.0, 0.75, 0.75, 0.9)  # the melody and the bass a little forward, as an organist registers them
HARMONICS = {
    "organ": ((1, 1.0), (2, 0.55), (3, 0.35), (4, 0.22), (5, 0.1), (6, 0.12), (8, 0.07)),
    "choir": ((1, 1.0), (2, 0.3), (3, 0.12), (4, 0.05)),
}


def _envelope(n: int, instrument: str, sr: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / sr
    if instrument == "organ":
        attack, release = 0.015, 0.06
        env = np.minimum(1.0, t / attack)
    else:
        attack, release = 0.12, 0.15
        env = np.minimum(1.0, t / attack) ** 2
    tail = (n / sr - t) / release
    return env * np.clip(tail, 0.0, 1.0)


REVERB_SECONDS = 1.4


@functools.lru_cache(maxsize=2)
def _reverb_spectrum(sr: int, size: int) -> np.ndarray:
    """The room's impulse response, zero-padded to ``size``, in frequency: the same for every piece of about the
    same length, so it is computed once: 15 ms of a 25-second chorale's 57 ms of sound (a 4 MB table, two kept)."""
    spectrum = np.fft.rfft(_reverb_impulse(sr), size)
    spectrum.flags.writeable = False
    return spectrum


def _reverb_impulse(sr: int, seconds: float = REVERB_SECONDS, seed: int = 7) -> np.ndarray:
    """A room's impulse response: the dry signal, then decaying noise, darker as it decays."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-t * 6.9 / seconds)  # -60 dB after ``seconds``
    tail = np.convolve(tail, np.ones(8) / 8, mode="same")  # a little darker
    ir = 0.25 * tail / np.sqrt((tail ** 2).sum())
    ir[0] = 1.0
    return ir.astype(np.float32)


def synthesize(notes: list[Note], tempo: float, instrument: str = "organ", sample_rate: int = SAMPLE_RATE,
               reverb: bool = True) -> np.ndarray:
    """Mono float32 audio in [-1, 1] of the notes at ``tempo`` quarter notes per minute."""
    if instrument not in HARMONICS:
        raise ValueError(f"unknown instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}")
    step = seconds_per_step(tempo)
    end = max((n.start + n.length for n in notes), default=0) * step
    tail = 1.5 if reverb else 0.1
    out = np.zeros(int((end + tail) * sample_rate) + 1, dtype=np.float32)
    rng = np.random.default_rng(0)
    cache: dict[tuple[int, int], np.ndarray] = {}
    for note in notes:
        length = int(note.length * step * sample_rate) + int(0.06 * sample_rate)  # a short overlap, legato
        key = (note.pitch, length)
        if key not in cache:
            cache[key] = _tone(note.pitch, length, instrument, sample_rate, rng)
        start = int(note.start * step * sample_rate)
        wave_ = cache[key][: len(out) - start]
        out[start : start + len(wave_)] += VOICE_GAIN[note.voice] * wave_
    if reverb and len(out):
        size = 1 << int(np.ceil(np.log2(len(out) + int(REVERB_SECONDS * sample_rate))))
        out = np.fft.irfft(np.fft.rfft(out, size) * _reverb_spectrum(sample_rate, size), size)[: len(out)]
        out = out.astype(np.float32)
    peak = float(np.abs(out).max()) if len(out) else 0.0
    return out * (0.89 / peak) if peak > 0 else out  # about -1 dBFS


def _tone(pitch: int, n: int, instrument: str, sr: int, rng) -> np.ndarray:
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    t = np.arange(n, dtype=np.float32) / sr
    wave_ = np.zeros(n, dtype=np.float32)
    if instrument == "choir":
        vibrato = 0.004 * np.sin(2 * np.pi * 5.0 * t) * np.minimum(1.0, t / 0.4)
        for detune in (-0.003, 0.003):
            phase = 2 * np.pi * f0 * (1 + detune) * (t + np.cumsum(vibrato) / sr)
            for h, a in HARMONICS["choir"]:
                if f0 * h < sr / 2:
                    wave_ += a * np.sin(h * phase).astype(np.float32)
        wave_ *= 0.5
    else:
        phase = 2 * np.pi * f0 * t
        for h, a in HARMONICS["organ"]:
            if f0 * h < sr / 2:
                wave_ += a * np.sin(h * phase).astype(np.float32)
        chiff = int(0.03 * sr)  # breath noise at the start of each pipe's speech
        wave_[:chiff] += 0.15 * rng.standard_normal(min(chiff, n)).astype(np.float32)[: n] * np.linspace(1, 0, min(chiff, n))
    return wave_ * _envelope(n, instrument, sr) * 0.25


def to_wav(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV bytes of mono float audio."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# -- piano roll -----------------------------------------------------------------------------------------------

def piano_roll(notes: list[Note], num_steps: int | None = None, step_px: int = 12, pitch_px: int = 6,
               highlight_from: int | None = None, confidence: dict[tuple[int, int], float] | None = None):
    """A picture of the notes: time left to right (a line every bar), pitch bottom to top, one colour per voice.

    ``highlight_from`` (a step) shades everything before it grey-blue: the opening a model was given.
    ``confidence`` maps (voice, start step) to the probability the model gave that note: unlikely notes are
    drawn pale, so surprising choices stand out.
    """
    from PIL import Image, ImageDraw, ImageFont

    num_steps = max(num_steps or 0, max((n.start + n.length for n in notes), default=8))
    low = min((n.pitch for n in notes), default=48) - 2
    high = max((n.pitch for n in notes), default=72) + 2
    margin = 34
    width = margin + num_steps * step_px + 4
    height = (high - low + 1) * pitch_px + 22
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=11)
    for p in range(low, high + 1):
        y = (high - p) * pitch_px
        if p % 12 in (1, 3, 6, 8, 10):
            draw.rectangle([margin, y, width, y + pitch_px - 1], fill=(246, 246, 248))
        if p % 12 == 0:
            draw.line([margin, y + pitch_px - 1, width, y + pitch_px - 1], fill=(215, 215, 222))
            draw.text((2, y - 4), pitch_name(p), fill=(90, 90, 90), font=font)
    if highlight_from:
        draw.rectangle([margin, 0, margin + highlight_from * step_px, height - 22], fill=(226, 232, 240))
        draw.text((margin + 2, height - 18), "given opening", fill=(71, 85, 105), font=font)
    for s in range(0, num_steps + 1, 8):
        x = margin + s * step_px
        draw.line([x, 0, x, height - 22], fill=(160, 160, 170))
        if s < num_steps and (not highlight_from or s >= highlight_from):
            draw.text((x + 2, height - 18), f"bar {s // 8 + 1}", fill=(90, 90, 90), font=font)
    for n in notes:
        x0 = margin + n.start * step_px
        y0 = (high - n.pitch) * pitch_px
        colour = VOICE_COLOURS[VOICES[n.voice]]
        if confidence is not None and (n.voice, n.start) in confidence:
            p = max(0.0, min(1.0, confidence[(n.voice, n.start)]))
            colour = tuple(int(c * (0.15 + 0.85 * p) + 255 * (1 - (0.15 + 0.85 * p))) for c in colour)
        draw.rounded_rectangle([x0 + 1, y0, x0 + n.length * step_px - 1, y0 + pitch_px - 1], radius=2, fill=colour)
    return img


# -- counts that say whether it sounds like a chorale ---------------------------------------------------------

SCALES = {"major": {0, 2, 4, 5, 7, 9, 11}, "minor": {9, 11, 0, 2, 4, 5, 7, 6, 8}}  # C major; A natural, melodic, harmonic minor


def in_key_share(notes: list[Note], mode: str) -> float:
    """The share of notes whose pitch class belongs to C major (or A minor, with its raised 6th and 7th)."""
    if not notes:
        return 0.0
    return sum(n.pitch % 12 in SCALES[mode] for n in notes) / len(notes)


def voice_range(notes: list[Note]) -> dict[str, tuple[int, int]]:
    out = {}
    for v, name in enumerate(VOICES):
        pitches = [n.pitch for n in notes if n.voice == v]
        if pitches:
            out[name] = (min(pitches), max(pitches))
    return out


def sounding_grid(notes: list[Note]) -> list[list[int | None]]:
    """The pitch each voice sounds at each step (None: silent)."""
    steps = max((n.start + n.length for n in notes), default=0)
    grid: list[list[int | None]] = [[None] * len(VOICES) for _ in range(steps)]
    for n in notes:
        for s in range(n.start, n.start + n.length):
            grid[s][n.voice] = n.pitch
    return grid


def parallel_fifths_octaves(notes: list[Note]) -> int:
    """How many times two voices move in parallel perfect fifths or octaves (unisons included) between
    consecutive steps where both sound and both change pitch in the same direction, the classic voice-leading
    fault of four-part writing."""
    grid = sounding_grid(notes)
    count = 0
    for a, b in zip(grid, grid[1:]):
        for i in range(len(VOICES)):
            for j in range(i + 1, len(VOICES)):
                if None in (a[i], a[j], b[i], b[j]):
                    continue
                moved_i, moved_j = b[i] - a[i], b[j] - a[j]
                if moved_i == 0 or moved_j == 0 or (moved_i > 0) != (moved_j > 0):
                    continue
                before, after = (a[i] - a[j]) % 12, (b[i] - b[j]) % 12
                if before == after and before in (0, 7):
                    count += 1
    return count
