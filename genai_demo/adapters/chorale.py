"""``audio/chorale``: four-part chorales written by the GPT trained by ``python -m genai_demo train audio/chorale``.

The model writes notes (tokens), not sound: this adapter samples the tokens bar by bar, then makes them a piano
roll, a MIDI file and audio (``genai_demo.music``). Streaming shows the piano roll growing bar by bar.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Iterator

from genai_demo.contract import ModelAdapter, Param, ParameterError, Preset, Result, seed_param
from genai_demo.music import INSTRUMENTS, SAMPLE_RATE, notes_of, piano_roll, synthesize, to_midi, to_wav
from genai_demo.words import Say

FROM_SCRATCH = "none: compose from the first bar"
_KO_LETTERS = {"C": "다", "D": "라", "E": "마", "F": "바", "G": "사", "A": "가", "B": "나"}


def key_name(key: str, lang: str = "en") -> str:
    """music21's key name ("B- minor", "F# major") as a musician writes it: "B♭ minor", or in Korean "내림나단조"."""
    tonic, _, mode = key.partition(" ")
    letter, accidental = tonic[:1].upper(), tonic[1:]
    if lang == "ko":
        prefix = {"-": "내림", "#": "올림"}.get(accidental, "")
        return f"{prefix}{_KO_LETTERS.get(letter, letter)}{'장조' if mode == 'major' else '단조'}"
    return f"{letter}{ {'-': '♭', '#': '♯'}.get(accidental, accidental)} {mode}"


def opening_name(label: str, lang: str) -> str:
    """An opening's label ("BWV 110.7 (B- minor)") with its key written for people."""
    head, sep, key = label.rpartition(" (")
    return f"{head} ({key_name(key.rstrip(')'), lang)})" if sep else label
OPENINGS_FILE = "openings.json"  # held-out chorales' first bars, written by the trainer
OPENING_BARS = 2
MAX_BARS = 24
MAX_FRAMES = 12  # process frames kept per piece
PROGRAMS = {"organ": 19, "choir": 52}  # General MIDI: church organ, choir aahs


class ChoraleAdapter(ModelAdapter):
    id = "audio/chorale"
    modality = "audio"
    family = "autoregressive"
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
        openings = {lang: {FROM_SCRATCH: scratch, **{label: opening_name(label, lang) for label in self.openings}}
                    for lang, scratch in (("en", "none: compose from the first bar"), ("ko", "없음: 첫 마디부터 작곡"))}
        return (
            Param("num_bars", "integer", 8, "How many bars of 4/4 to write (after the opening, if one is chosen).",
                  label="Number of bars", minimum=1, maximum=MAX_BARS, step=1,
                  translations={"ko": ("마디 수", "쓸 4/4박자 마디의 수입니다(도입부를 골랐다면 그 뒤로).")}),
            Param("mode", "choice", "major", "Major sounds bright, minor darker: the first token tells the model "
                  "which to write (ignored when it continues a real chorale, which has its own).", label="Key",
                  choices=("major", "minor"),
                  translations={"ko": ("조성", "장조는 밝게, 단조는 어둡게 들립니다. 첫 토큰이 모델에게 어느 쪽을 쓸지 "
                                             "알려 줍니다(실제 코랄을 이어 쓸 때는 그 코랄의 조성을 따르므로 "
                                             "무시됩니다).")},
                  choice_names={"en": {"major": "major", "minor": "minor"}, "ko": {"major": "장조", "minor": "단조"}}),
            Param("continue_from", "choice", FROM_SCRATCH, "Give the model the first bars of a real Bach chorale "
                  "it never trained on, and hear how it carries on.", label="Continue a real chorale",
                  choices=(FROM_SCRATCH, *self.openings), choice_names=openings,
                  translations={"ko": ("실제 코랄 이어 쓰기", "모델이 학습하지 않은 실제 바흐 코랄의 첫 마디들을 주고, "
                                                          "어떻게 이어 가는지 들어 봅니다.")}),
            Param("temperature", "slider", 0.9, "Below 1: safer, plainer harmony; above 1: more surprising notes, "
                  "then wrong ones.", minimum=0.1, maximum=2.0, step=0.05,
                  translations={"ko": ("온도", "1보다 낮으면 더 안전하고 평범한 화성, 1보다 높으면 더 놀라운 음이, "
                                             "그다음엔 틀린 음이 나옵니다.")}),
            Param("top_k", "integer", 0, "Draw each token only from the k likeliest; 0 keeps them all.",
                  label="Only the k likeliest (top-k)", minimum=0, maximum=60, step=1, advanced=True,
                  translations={"ko": ("가장 그럴듯한 k개만(top-k)", "각 토큰을 가장 가능성 높은 k개 중에서만 뽑습니다. "
                                                                   "0이면 모두 남깁니다.")}),
            Param("top_p", "slider", 1.0, "Draw only from the likeliest tokens whose probabilities add up to p; "
                  "1 keeps them all.", label="Likeliest up to a total of p (top-p)", minimum=0.05, maximum=1.0,
                  step=0.01, advanced=True,
                  translations={"ko": ("합이 p가 될 때까지만(top-p)", "확률의 합이 p가 될 때까지의 가장 가능성 높은 "
                                                                    "토큰들 중에서만 뽑습니다. 1이면 모두 "
                                                                    "남깁니다.")}),
            Param("forbid_parallels", "toggle", True, "On: while sampling, skip any note that would move two voices "
                  "in parallel fifths or octaves, a rule of four-part harmony Bach follows. Off: the model alone, "
                  "which writes them about 45 times as often as Bach.", label="Follow Bach's rule: no parallel "
                  "fifths or octaves",
                  translations={"ko": ("바흐의 규칙 지키기: 평행 5도·8도 금지", "켜면: 뽑는 동안 두 성부를 평행 5도나 "
                                       "평행 8도로 움직이게 할 음은 건너뜁니다. 바흐가 지키는 4성부 화성의 규칙입니다. "
                                       "끄면: 모델만으로 쓰며, 바흐보다 약 45배 자주 씁니다.")}),
            Param("tempo", "integer", 80, "Quarter notes per minute when it is played.", label="Tempo (beats a minute)",
                  minimum=30, maximum=240, step=1,
                  translations={"ko": ("빠르기(1분당 박)", "연주할 때 1분에 몇 개의 4분음표를 칠지입니다.")}),
            Param("transpose", "integer", 0, "Semitones up or down from C major / A minor, where the model writes.",
                  label="Transpose (semitones)", minimum=-12, maximum=12, step=1, advanced=True,
                  translations={"ko": ("조옮김(반음)", "모델이 쓰는 다장조/가단조에서 반음 단위로 올리거나 "
                                                    "내립니다.")}),
            Param("instrument", "choice", "organ", "The synthesised sound: a pipe organ, or a soft choir.",
                  label="Instrument", choices=INSTRUMENTS,
                  translations={"ko": ("악기", "합성할 소리: 파이프 오르간 또는 부드러운 합창입니다.")},
                  choice_names={"en": {"organ": "organ", "choir": "choir"}, "ko": {"organ": "오르간", "choir": "합창"}}),
            seed_param(),
        )

    translations = {"ko": {
        "title": "자기 회귀 음악: GPT가 바흐 양식의 4성부 코랄을 씁니다",
        "description": "이 작은 트랜스포머는 바흐의 4성부 코랄 약 300곡을 토큰으로 읽었습니다. 8분음표마다 소프라노, "
                       "알토, 테너, 베이스에 토큰이 하나씩(음높이, '유지' 또는 '쉼') 있습니다. 텍스트 GPT처럼 한 번에 "
                       "한 토큰씩, 예측한 확률에서 뽑아 쓰고 다시 입력으로 넣습니다. 앱은 토큰을 피아노 롤, MIDI "
                       "파일, 소리로 바꿉니다. 실제 코랄의 도입부를 고르면 모델이 바흐를 이어 가는 것을 들을 수 "
                       "있습니다.",
    }}
    presets = (
        Preset("good", {"temperature": 0.9, "forbid_parallels": True}, {
            "en": ("Good: temperature 0.9", "four voices in C major or A minor, about 16 notes a bar, as in Bach's own "
                                            "chorales."),
            "ko": ("좋음: 온도 0.9", "다장조나 가단조의 네 성부, 바흐의 코랄처럼 한 마디에 음이 약 16개입니다.")}),
        Preset("cold", {"temperature": 0.3}, {
            "en": ("Dull: temperature 0.3", "safe, slow chords held for long: every note in the key, little melody."),
            "ko": ("밋밋함: 온도 0.3", "안전하고 느린 화음이 길게 이어집니다. 모든 음이 조성 안에 있지만 선율은 거의 "
                                    "없습니다.")}, broken=True),
        Preset("hot", {"temperature": 2.0}, {
            "en": ("Broken: temperature 2", "restless eighth notes in every voice and notes outside the key: the "
                                            "harmony falls apart."),
            "ko": ("망가짐: 온도 2", "모든 성부에 쉴 새 없는 8분음표와 조성 밖의 음이 나와 화성이 무너집니다.")},
            broken=True),
        Preset("no_rule", {"forbid_parallels": False}, {
            "en": ("The model alone: no parallel rule", "listen for two voices sliding together in fifths or octaves, "
                                                        "which Bach avoids."),
            "ko": ("모델만: 평행 규칙 없음", "두 성부가 5도나 8도로 나란히 미끄러지는 소리를 들어 보세요. 바흐는 이를 "
                                         "피합니다.")}, broken=True),
    )
    trainer = "genai_demo.train.chorale"
    shares_steps = 8  # pieces per chunk of the shared batch (one sequence each), also what fixes their notes

    def estimate_seconds(self, values: dict) -> float:
        return 0.06 * values["num_bars"]  # README: 8 bars written in 0.47 s, the sound rendered in a few ms
    words = {"ko": {
        "bar {bar} of {bars}: on average the model gave each token it chose (a note, hold or rest) a probability of "
        "{p:.0%}": "{bars}마디 중 {bar}마디: 모델은 고른 토큰(음, 유지, 쉼)마다 평균 {p:.0%}의 확률을 주었습니다",
        "the piece so far; each new note pale if the model thought it unlikely":
            "지금까지의 곡. 모델이 그럴듯하지 않다고 본 새 음은 옅게 그립니다",
        "bar {bar} of {bars}": "{bars}마디 중 {bar}마디",
        "piano roll": "피아노 롤",
    }}

    def _load(self, weights_dir):
        import torch
        from transformers import GPT2LMHeadModel
        from transformers.utils.logging import disable_progress_bar

        from genai_demo.data.chorales import VOCAB

        disable_progress_bar()  # no "Loading weights" bar in the app's log or the CLI's output
        model = GPT2LMHeadModel.from_pretrained(weights_dir, local_files_only=True, use_safetensors=True,
                                                trust_remote_code=False, dtype=torch.float32).eval().to(self.device)
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
                raise ParameterError(f"continue_from={continue_from[:40]!r} is not a known chorale",
                                     param=self.param("continue_from"), reason="not_choice", value=continue_from)
            prefix = [ID[t] for t in opening["tokens"]]
            given_bars, mode = (len(prefix) - 2) // TOKENS_PER_BAR, opening["mode"]
        total_steps = (given_bars + num_bars) * STEPS_PER_BAR
        highlight = given_bars * STEPS_PER_BAR or None
        generator = torch.Generator(self.device or "cpu").manual_seed(seed)  # on the model's device
        tokens, process, probs = list(prefix), [], []
        confidence: dict[tuple[int, int], float] = {}  # (voice, step) -> the model's probability of that new note
        for step in sample(model, prefix, num_bars, generator, temperature=temperature, top_k=top_k, top_p=top_p,
                           forbid_parallels=forbid_parallels, width=self.shares_steps):
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
                        "label": Say("bar {bar} of {bars}: on average the model gave each token it chose (a note, "
                                     "hold or rest) a probability of {p:.0%}", bar=bar, bars=num_bars,
                                     p=sum(recent) / len(recent)),
                        "images": {Say("the piece so far; each new note pale if the model thought it unlikely"):
                                   piano_roll(notes, total_steps, step_px=6, highlight_from=highlight,
                                              confidence=confidence)}})
                if bar < num_bars:
                    yield Result(images=[roll], captions=[Say("bar {bar} of {bars}", bar=bar, bars=num_bars)],
                                 done=False, process=process,
                                 info={"mode": mode})
        notes = notes_of(tokens, transpose)
        audio = synthesize(notes, tempo, instrument)
        title = f"{self.id} seed {seed}" + (f", after {continue_from}" if given_bars else "")
        files = {"chorale.mid": to_midi(notes, tempo, title, PROGRAMS[instrument]),
                 "chorale.wav": to_wav(audio, SAMPLE_RATE)}
        yield Result(images=[piano_roll(notes, total_steps, highlight_from=highlight)], audio=(SAMPLE_RATE, audio),
                     files=files, process=process, captions=[Say("piano roll")],
                     info={"mode": mode, "num_notes": len(notes), "audio_seconds": round(len(audio) / SAMPLE_RATE, 2),
                           "mean_p_chosen": round(sum(probs) / max(1, len(probs)), 4),
                           "tokens": [int(t) for t in tokens]})
