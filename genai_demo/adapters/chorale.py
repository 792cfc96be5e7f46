"""``audio/chorale``: four-part chorales written by the GPT trained by ``python -m genai_demo train audio/chorale``.

The model writes notes (tokens), not sound: this adapter samples the tokens bar by bar, then makes them a piano
roll, a MIDI file and audio (``genai_demo.music``). Streaming shows the piano roll growing bar by bar.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Iterator

from genai_demo.contract import ModelAdapter, Param, ParameterError, Result, seed_param
from genai_demo.music import INSTRUMENTS, SAMPLE_RATE, notes_of, piano_roll, synthesize, to_midi, to_wav

FROM_SCRATCH = "none: compose from the first bar"
OPENINGS_FILE = "openings.json"  # held-out chorales' first bars, written by the trainer
OPENING_BARS = 2
MAX_BARS = 24
MAX_FRAMES = 12  # process frames kept per piece
PROGRAMS = {"organ": 19, "choir": 52}  # General MIDI: church organ, choir aahs


class ChoraleAdapter(ModelAdapter):
    id = "audio/chorale"
    modality = "audio"
    family = "autoregressive"
    heavy = False  # about 33 small network passes a bar: a few seconds for a whole piece
    slow = True
    title = "Autoregressive music: a GPT writes four-part chorales in the style of Bach"
    description = (
        "This small transformer read about 300 of Bach's four-part chorales as tokens: every eighth note, one "
        "token each for soprano, alto, tenor and bass (a pitch, 'hold' or 'rest'). Like a text GPT it writes one "
        "token at a time, each drawn from its predicted probabilities, then feeds it back in. The app turns the "
        "tokens into a piano roll, a MIDI file and sound. Pick a real chorale's opening to hear the model carry "
        "on Bach."
    )

    @property
    def train_command(self) -> str:
        return f"python -m genai_demo train audio/chorale --out {self.weights_dir}"  # the data comes with music21

    @cached_property
    def openings(self) -> dict[str, dict]:
        """The held-out chorales whose first bars the model can continue, by label (empty if the file is missing)."""
        try:
            entries = json.loads((self.weights_dir / OPENINGS_FILE).read_text())
            return {e["label"]: e for e in entries}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    @cached_property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("num_bars", "integer", 8, "How many bars of 4/4 to write (after the opening, if one is chosen).",
                  label="num_bars", minimum=1, maximum=MAX_BARS, step=1),
            Param("mode", "choice", "major", "Major sounds bright, minor darker: the first token tells the model "
                  "which to write (ignored when it continues a real chorale, which has its own).",
                  choices=("major", "minor")),
            Param("continue_from", "choice", FROM_SCRATCH, "Give the model the first bars of a real Bach chorale "
                  "it never trained on, and hear how it carries on.", label="continue_from",
                  choices=(FROM_SCRATCH, *self.openings)),
            Param("temperature", "slider", 0.9, "Below 1: safer, plainer harmony; above 1: more surprising notes, "
                  "then wrong ones.", minimum=0.1, maximum=2.0, step=0.05),
            Param("top_k", "integer", 0, "Draw each token only from the k likeliest; 0 keeps them all.",
                  minimum=0, maximum=60, step=1, advanced=True),
            Param("top_p", "slider", 1.0, "Draw only from the likeliest tokens whose probabilities add up to p; "
                  "1 keeps them all.", minimum=0.05, maximum=1.0, step=0.01, advanced=True),
            Param("forbid_parallels", "toggle", True, "On: while sampling, skip any note that would move two voices "
                  "in parallel fifths or octaves, a rule of four-part harmony Bach follows. Off: the model alone, "
                  "which writes them about 45 times as often as Bach.", label="forbid_parallels"),
            Param("tempo", "integer", 80, "Quarter notes per minute when it is played.", minimum=30, maximum=240,
                  step=1),
            Param("transpose", "integer", 0, "Semitones up or down from C major / A minor, where the model writes.",
                  minimum=-12, maximum=12, step=1, advanced=True),
            Param("instrument", "choice", "organ", "The synthesised sound: a pipe organ, or a soft choir.",
                  choices=INSTRUMENTS),
            seed_param(),
        )

    def _load(self, weights_dir):
        import torch
        from transformers import GPT2LMHeadModel
        from transformers.utils.logging import disable_progress_bar

        from genai_demo.data.chorales import VOCAB

        disable_progress_bar()  # no "Loading weights" bar in the app's log or the CLI's output
        model = GPT2LMHeadModel.from_pretrained(weights_dir, local_files_only=True, use_safetensors=True,
                                                trust_remote_code=False, dtype=torch.float32).eval()
        if getattr(model.config, "chorale_vocab", None) != VOCAB:
            raise ValueError("its token vocabulary differs from this code's chorale encoding")
        return model

    def _generate(self, model, *, num_bars: int, mode: str, continue_from: str, temperature: float, top_k: int,
                  top_p: float, forbid_parallels: bool, tempo: int, transpose: int, instrument: str,
                  seed: int) -> Iterator[Result]:
        import torch

        from genai_demo.data.chorales import BOS, FIRST_PITCH, ID, MAJOR, MINOR, STEPS_PER_BAR, TOKENS_PER_BAR
        from genai_demo.models.chorale import sample

        if continue_from == FROM_SCRATCH:
            prefix, given_bars = [BOS, MAJOR if mode == "major" else MINOR], 0
        else:
            opening = self.openings.get(continue_from)
            if opening is None:
                raise ParameterError(f"continue_from={continue_from[:40]!r} is not a known chorale")
            prefix = [ID[t] for t in opening["tokens"]]
            given_bars, mode = (len(prefix) - 2) // TOKENS_PER_BAR, opening["mode"]
        total_steps = (given_bars + num_bars) * STEPS_PER_BAR
        highlight = given_bars * STEPS_PER_BAR or None
        generator = torch.Generator().manual_seed(seed)
        tokens, process, probs = list(prefix), [], []
        confidence: dict[tuple[int, int], float] = {}  # (voice, step) -> the model's probability of that new note
        for step in sample(model, prefix, num_bars, generator, temperature=temperature, top_k=top_k, top_p=top_p,
                           forbid_parallels=forbid_parallels):
            position = (len(tokens) - 2) % TOKENS_PER_BAR
            if position and step.token_id >= FIRST_PITCH:
                bar_index = (len(tokens) - 2) // TOKENS_PER_BAR
                confidence[((position - 1) % 4, bar_index * STEPS_PER_BAR + (position - 1) // 4)] = step.p_model
            tokens.append(step.token_id)
            if position:
                probs.append(step.p_model)
            if (len(tokens) - 2) % TOKENS_PER_BAR == 0:  # a bar is complete
                bar = (len(tokens) - 2) // TOKENS_PER_BAR - given_bars
                notes = notes_of(tokens, transpose)
                roll = piano_roll(notes, total_steps, highlight_from=highlight)
                recent = probs[-(TOKENS_PER_BAR - 1):]
                # A frame for the "how it was written" view, kept with the visitor's session: at most
                # MAX_FRAMES of them, drawn half as wide as the result, so a long piece stays a few MB.
                if bar % -(-num_bars // MAX_FRAMES) == 0 or bar == num_bars:
                    process.append({
                        "label": f"bar {bar} of {num_bars}: on average the model gave each token it chose (a note, "
                                 f"hold or rest) a probability of {sum(recent) / len(recent):.0%}",
                        "images": {"the piece so far; each new note pale if the model thought it unlikely":
                                   piano_roll(notes, total_steps, step_px=6, highlight_from=highlight,
                                              confidence=confidence)}})
                if bar < num_bars:
                    yield Result(images=[roll], captions=[f"bar {bar}/{num_bars}"], done=False, process=process,
                                 info={"mode": mode})
        notes = notes_of(tokens, transpose)
        audio = synthesize(notes, tempo, instrument)
        title = f"{self.id} seed {seed}" + (f", after {continue_from}" if given_bars else "")
        files = {"chorale.mid": to_midi(notes, tempo, title, PROGRAMS[instrument]),
                 "chorale.wav": to_wav(audio, SAMPLE_RATE)}
        yield Result(images=[piano_roll(notes, total_steps, highlight_from=highlight)], audio=(SAMPLE_RATE, audio),
                     files=files, process=process, captions=["piano roll"],
                     info={"mode": mode, "num_notes": len(notes), "audio_seconds": round(len(audio) / SAMPLE_RATE, 2),
                           "mean_p_chosen": round(sum(probs) / max(1, len(probs)), 4),
                           "tokens": [int(t) for t in tokens]})
