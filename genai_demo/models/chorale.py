"""A GPT that writes four-part chorales, token by token, and its sampling loop.

The tokens are those of ``genai_demo.data.chorales``: ``<s>``, ``major``/``minor``, then bars of 33 tokens (a
bar token and eight eighth-note steps of soprano, alto, tenor, bass). The network is transformers'
``GPT2LMHeadModel`` (learned positions, GELU MLP, dropout on embeddings, attention and residuals: dropout
matters here, because 300 chorales are only 135,000 tokens). Training windows are at most ``WINDOW_BARS`` bars,
each starting with ``<s>`` and the mode at some bar of a chorale, so the model learns to go on from any bar.

``sample`` writes a chorale: it keeps the structure fixed (a bar token every 33 tokens; in each voice slot only
that voice's pitches, ``hold`` or ``rest``) and lets the model choose everything else. A longer piece than the
window slides: the model is restarted from ``<s>``, the mode and the last ``KEEP_BARS`` bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator, Iterator

import torch
import torch.nn.functional as F

from genai_demo.data.chorales import (BAR, BOS, FIRST_PITCH, HOLD, MAJOR, MINOR, REST, STEPS_PER_BAR, TOKENS_PER_BAR,
                                      VOCAB, VOICES, id_pitch, pitch_id)

WINDOW_BARS = 12  # the longest window the model reads: 2 + 12 * 33 = 398 tokens
KEEP_BARS = 8  # bars kept when a long piece slides the window

PRESETS = {
    "tiny": dict(n_embd=32, n_layer=2, n_head=2),  # for tests
    "base": dict(n_embd=192, n_layer=4, n_head=4),  # the shipped model: about 1.9 M parameters
}


def window_tokens(bars: int = WINDOW_BARS) -> int:
    return 2 + bars * TOKENS_PER_BAR


def make_model(preset: str = "base", dropout: float = 0.1, voice_ranges=None):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(VOCAB), n_positions=window_tokens(), bos_token_id=BOS, eos_token_id=None,
                        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout, **PRESETS[preset])
    # The vocabulary and each voice's range travel with the weights, in config.json.
    config.chorale_vocab = VOCAB
    config.voice_ranges = voice_ranges or {v: [36, 81] for v in VOICES}
    return GPT2LMHeadModel(config)


# -- training ---------------------------------------------------------------------------------------------------

def windows(tokens: list[int], bars: int = WINDOW_BARS) -> list[list[int]]:
    """A chorale cut into consecutive windows of at most ``bars`` bars, each starting with ``<s>`` and the mode."""
    head, body = tokens[:2], tokens[2:]
    size = bars * TOKENS_PER_BAR
    return [head + body[i : i + size] for i in range(0, len(body), size)]


def random_windows(chorales: list[list[int]], batch_size: int, generator: torch.Generator,
                   bars: int = WINDOW_BARS) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of windows starting at random bars of random chorales; inputs (B, T) and targets (-100 = padding)."""
    picks = torch.randint(0, len(chorales), (batch_size,), generator=generator).tolist()
    seqs = []
    for i in picks:
        tokens = chorales[i]
        n_bars = (len(tokens) - 2) // TOKENS_PER_BAR
        start = int(torch.randint(0, max(1, n_bars - 1), (1,), generator=generator))
        body = tokens[2 + start * TOKENS_PER_BAR : 2 + (start + bars) * TOKENS_PER_BAR]
        seqs.append(tokens[:2] + body)
    return pad(seqs)


def pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of different lengths as (inputs, targets): targets are the inputs shifted by one, -100 past the end."""
    length = max(len(s) for s in seqs) - 1
    x = torch.full((len(seqs), length), REST, dtype=torch.long)
    y = torch.full((len(seqs), length), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, : len(s) - 1] = torch.tensor(s[:-1])
        y[i, : len(s) - 1] = torch.tensor(s[1:])
    return x, y


def note_targets(y: torch.Tensor) -> torch.Tensor:
    """Targets with the structure tokens (the bar token, fixed by the grid) masked out: only voice slots count."""
    return y.masked_fill(y == BAR, -100)


def loss(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=x).logits
    return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=-100)


@torch.no_grad()
def nll_per_token(model, chorales: list[list[int]], notes_only: bool = True, batch_size: int = 16) -> float:
    """Mean -log p of each token of held-out chorales, in nats, read in consecutive windows.

    ``notes_only`` counts only the voice slots (a pitch, hold or rest), not the bar tokens the grid fixes.
    """
    model.eval()
    seqs = [w for c in chorales for w in windows(c) if len(w) > 2]
    total, count = 0.0, 0
    for i in range(0, len(seqs), batch_size):
        x, y = pad(seqs[i : i + batch_size])
        y[:, 0] = -100  # the mode token follows <s> by construction: not a prediction
        if notes_only:
            y = note_targets(y)
        logits = model(input_ids=x).logits.float()
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=-100, reduction="sum").item()
        count += int((y != -100).sum())
    return total / max(1, count)


def unigram_nll(train: list[list[int]], held_out: list[list[int]], notes_only: bool = True) -> float:
    """The baseline: -log p of each held-out token under the token frequencies of the training chorales."""
    def counted(seqs):
        for s in seqs:
            for t in s[2:]:
                if not (notes_only and t == BAR):
                    yield t

    counts = torch.ones(len(VOCAB))  # add-one smoothing, so an unseen token is not infinitely surprising
    for t in counted(train):
        counts[t] += 1
    logp = (counts / counts.sum()).log()
    values = [float(-logp[t]) for t in counted(held_out)]
    return sum(values) / max(1, len(values))


# -- sampling -------------------------------------------------------------------------------------------------

@dataclass
class Step:
    token_id: int
    p_model: float  # the model's probability of the chosen token, among the tokens the grid allows
    candidates: list[tuple[int, float]]  # the likeliest allowed tokens and their probabilities


class Voices:
    """What each voice sounds at the current step and the step before, read token by token."""

    def __init__(self):
        self.previous: list[int | None] = [None] * len(VOICES)  # MIDI pitch, or None for silence
        self.current: list[int | None] = [None] * len(VOICES)

    def start(self, position: int) -> None:
        """Call before the token at ``position`` of a bar (0 = the bar token) is chosen: the soprano's slot opens a
        new step."""
        if position and (position - 1) % len(VOICES) == 0:
            self.previous, self.current = self.current, [None] * len(VOICES)

    def read(self, position: int, token: int) -> None:
        """Take the token chosen at ``position`` (after ``start(position)``)."""
        if position == 0:
            return
        v = (position - 1) % len(VOICES)
        if token == HOLD:
            self.current[v] = self.previous[v]
        elif token != REST:
            self.current[v] = id_pitch(token)

    def sounding(self, v: int) -> bool:
        """Whether voice ``v`` sounded at the step before (so that it may hold its note)."""
        return self.previous[v] is not None

    def makes_parallel(self, v: int, pitch: int) -> bool:
        """Whether voice ``v`` moving to ``pitch`` makes parallel fifths or octaves with a voice above it, already
        chosen at this step: both move in the same direction and keep the same interval, a fifth or an octave (or
        a unison), counted modulo octaves."""
        below_before = self.previous[v]
        if below_before is None or pitch == below_before:
            return False
        for u in range(v):
            before, now = self.previous[u], self.current[u]
            if before is None or now is None or now == before or (now > before) != (pitch > below_before):
                continue
            if (before - below_before) % 12 == (now - pitch) % 12 and (now - pitch) % 12 in (0, 7):
                return True
        return False


def allowed_mask(position: int, voices: Voices, ranges: list[tuple[int, int]],
                 forbid_parallels: bool = False) -> torch.Tensor | None:
    """Which tokens may come at ``position`` of a bar (0 = the bar token); None means only the bar token."""
    if position == 0:
        return None
    v = (position - 1) % len(VOICES)
    mask = torch.zeros(len(VOCAB), dtype=torch.bool)
    low, high = ranges[v]
    mask[pitch_id(low) : pitch_id(high) + 1] = True
    if forbid_parallels:
        for pitch in range(low, high + 1):
            if voices.makes_parallel(v, pitch):
                mask[pitch_id(pitch)] = False
    mask[REST] = True
    mask[HOLD] = voices.sounding(v)
    return mask


def sample(model, prefix: list[int], num_bars: int, generator: torch.Generator, width: int = 8,
           **settings) -> Iterator[Step]:
    """Yield one Step per new token, ``num_bars`` new bars after ``prefix`` (``<s>``, a mode, whole bars):
    ``sample_steps`` computed in this process's shared batch for ``model``, ``width`` pieces per chunk (part of what
    fixes a piece's notes), so pieces written at the same time advance together, each as it would alone."""
    from genai_demo.models.charlm import decoder

    steps = sample_steps(model, prefix, num_bars, generator, **settings)
    return decoder(model, window_tokens(), width).stream(steps)


@torch.no_grad()
def sample_steps(model, prefix: list[int], num_bars: int, generator: torch.Generator, *, temperature: float = 1.0,
                 top_k: int = 0, top_p: float = 1.0, forbid_parallels: bool = False, num_candidates: int = 5,
                 soprano: list[int] | None = None) -> Generator:
    """The sampling loop of one piece, as a coroutine (``genai_demo.batching``): it yields what it needs from the
    network (``Prefill``, ``NextToken``), receives the next-token logits (1, vocab), and yields a Step per token.

    ``forbid_parallels`` adds one rule of four-part writing to the grid's: a pitch that would move two voices in
    parallel fifths or octaves cannot be drawn (the model's other choices keep their relative probabilities).
    ``soprano`` (one token per eighth-note step of the new bars) is written as given instead of drawn (``harmonise``);
    its Step reports the probability the model gave it before the grid's mask.
    """
    from genai_demo.models.charlm import NextToken, Prefill, draw, make_processors, reshaped

    assert prefix[0] == BOS and prefix[1] in (MAJOR, MINOR) and (len(prefix) - 2) % TOKENS_PER_BAR == 0
    ranges = [tuple(model.config.voice_ranges[v]) for v in VOICES]
    processors = make_processors(True, temperature, top_k, top_p, 1.0)
    tokens = list(prefix)
    voices = Voices()
    for i, t in enumerate(tokens[2:]):
        voices.start(i % TOKENS_PER_BAR)
        voices.read(i % TOKENS_PER_BAR, t)
    window_start, fresh = 2, True  # the model reads tokens[:2] + tokens[window_start:]; fresh: from scratch
    for _ in range(num_bars * TOKENS_PER_BAR):
        position = (len(tokens) - 2) % TOKENS_PER_BAR
        if len(tokens) - window_start + 2 >= window_tokens():  # slide: keep the last bars
            window_start = len(tokens) - KEEP_BARS * TOKENS_PER_BAR - position
            fresh = True
        if fresh:
            logits = yield Prefill(tokens[:2] + tokens[window_start:])
            fresh = False
        else:
            logits = yield NextToken(tokens[-1])
        voices.start(position)
        mask = allowed_mask(position, voices, ranges, forbid_parallels)
        if mask is None:
            token, p_model, candidates = BAR, 1.0, [(BAR, 1.0)]
        elif soprano is not None and (position - 1) % len(VOICES) == 0:  # the soprano's slot: the given note
            token = soprano[(len(tokens) - len(prefix)) // TOKENS_PER_BAR * STEPS_PER_BAR + (position - 1) // len(VOICES)]
            p = logits[0].softmax(-1)  # the model's own expectation, before the grid's mask
            p_model = float(p[token])
        else:
            logits = logits[0].masked_fill(~mask.to(logits.device), -float("inf"))
            p = logits.softmax(-1)
            scores = reshaped(processors, None, logits.unsqueeze(0).clone())  # (none of them reads the tokens)
            token = int(draw(scores.softmax(-1), generator))  # this piece's own generator
            p_model = float(p[token])
            top = p.topk(min(num_candidates, int(mask.sum()))).indices.tolist()
            candidates = list(zip(top, p[top].tolist()))
        voices.read(position, token)
        tokens.append(token)
        yield Step(token, p_model, candidates)


def voice_ranges(chorales: list[list[int]]) -> dict[str, list[int]]:
    """The lowest and highest MIDI pitch each voice sings in these chorales."""
    low = [999] * len(VOICES)
    high = [0] * len(VOICES)
    for tokens in chorales:
        for i, t in enumerate(tokens[2:]):
            if i % TOKENS_PER_BAR and t >= FIRST_PITCH:
                v = (i % TOKENS_PER_BAR - 1) % len(VOICES)
                p = id_pitch(t)
                low[v], high[v] = min(low[v], p), max(high[v], p)
    return {name: [low[v], high[v]] for v, name in enumerate(VOICES)}


def harmonise(model, soprano: list[int], mode: int, generator: torch.Generator, width: int = 8, **settings
              ) -> Iterator[Step]:
    """Write alto, tenor and bass under a given soprano line: one Step per new token, whole bars.

    ``soprano`` holds one soprano token per eighth-note step (a pitch, ``hold`` or ``rest``), a whole number of
    bars; ``mode`` is ``MAJOR`` or ``MINOR``. The grid is ``sample``'s, with one more constraint: in every soprano
    slot the sampler does not draw, it writes the given token (its Step reports the probability the model gave it,
    how expected the melody was). The three lower voices are drawn as in ``sample``, so they hear the melody note
    of their own step (soprano comes first in each step) and, after the first steps, the melody so far; what comes
    after is unknown to them, as in Bach's own left-to-right writing (Coconet fills in any order; this GPT cannot).
    Computed in the chorale model's shared batch, as ``sample`` is (``settings``: ``sample_steps``'s).
    """
    if len(soprano) % STEPS_PER_BAR or mode not in (MAJOR, MINOR):
        raise ValueError("the soprano must fill whole bars of eight steps, and the mode be major or minor")
    return sample(model, [BOS, mode], len(soprano) // STEPS_PER_BAR, generator, width, soprano=soprano, **settings)
