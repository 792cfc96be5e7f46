"""``audio/harmonise``: the chorale GPT writes alto, tenor and bass under a melody the visitor enters.

The same weights as ``audio/chorale``. The melody (note names with lengths, ``genai_demo.melody``) is moved to C
major or A minor, where the model writes, set on the eighth-note grid as the soprano, and the sampler
(``models.chorale.harmonise``) writes the soprano's tokens as given and draws the three lower voices. The result
is moved back to the melody's own key, so the soprano sounds exactly as entered; it is played, drawn and
downloadable like a chorale.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Iterator

from genai_demo.adapters.chorale import PROGRAMS, ChoraleAdapter, key_name
from genai_demo.contract import Param, ParameterError, Preset, Result, seed_param
from genai_demo.melody import MelodyError, num_bars, parse_melody, to_model_key
from genai_demo.music import SAMPLE_RATE, notes_of, piano_roll, synthesize, to_midi, to_wav
from genai_demo.words import Say

ODE_TO_JOY = ("E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4:1.5 D4:0.5 D4:2 "  # Beethoven, 1824: public domain
              "E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 D4:1.5 C4:0.5 C4:2")
TWINKLE = "C4 C4 G4 G4 A4 A4 G4:2 F4 F4 E4 E4 D4 D4 C4:2"
# The chorale melody "Nun danket alle Gott" (Crüger, 1647), which Bach harmonised (BWV 386), in G major.
NUN_DANKET = "G4 G4 G4 A4 B4:1.5 A4:0.5 G4 B4 C5 C5 B4:2 A4:2 G4:2"
SOPRANO_RANGE = (52, 84)  # the soprano's range in the training chorales (config.json), if the config cannot be read
MUSIC21_TONICS = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")  # for key_name
AUTO = "auto"
KEYS = tuple(f"{tonic} {mode}" for mode in ("major", "minor") for tonic in MUSIC21_TONICS)


def parse_key(key: str) -> tuple[int, str] | None:
    """``"B- minor"`` -> (10, "minor"); None for ``auto``."""
    if key == AUTO:
        return None
    tonic, mode = key.split(" ")
    return MUSIC21_TONICS.index(tonic), mode


class MelodyParameterError(ParameterError):
    """A melody the harmoniser cannot use: the contract's line for the API, and ``details`` for the page's line."""

    def __init__(self, error: MelodyError, param: Param, value: str):
        super().__init__(f"melody: {error}", param=param, reason=f"melody_{error.reason}", value=value)
        self.details = error.details


class HarmoniseAdapter(ChoraleAdapter):
    id = "audio/harmonise"
    title = "Harmonise a melody: the chorale GPT writes three voices under yours"
    description = (
        "Enter a melody as note names with lengths in beats (C4 is middle C; E4:2 lasts two beats, D4:0.5 half a "
        "beat; R is a rest), or load a small MIDI file. The same small transformer that writes Bach-style chorales "
        "sings your melody as the soprano, exactly as you wrote it, and writes alto, tenor and bass under it, one "
        "eighth note at a time. It only hears the melody up to the note it is harmonising, as it wrote the chorales: "
        "left to right."
    )
    translations = {"ko": {
        "title": "선율에 화성 붙이기: 코랄 GPT가 내 선율 아래에 세 성부를 씁니다",
        "description": "음 이름과 박자 수로 선율을 적거나(C4는 가운데 도, E4:2는 두 박, D4:0.5는 반 박, R은 쉼표) "
                       "작은 MIDI 파일을 불러오세요. 바흐 양식의 코랄을 쓰는 같은 작은 트랜스포머가 내 선율을 적은 "
                       "그대로 소프라노로 부르고, 그 아래에 알토, 테너, 베이스를 8분음표 하나씩 씁니다. 코랄을 쓸 "
                       "때처럼 왼쪽에서 오른쪽으로, 지금 화성을 붙이는 음까지만 선율을 듣습니다.",
    }}
    words = {"ko": {
        "bar {bar} of {bars}: on average the model gave each lower voice's token (a note, hold or rest) a probability "
        "of {p:.0%}": "{bars}마디 중 {bar}마디: 모델은 아래 성부의 토큰(음, 유지, 쉼)마다 평균 {p:.0%}의 확률을 "
                      "주었습니다",
    }}
    presets = (
        Preset("ode", {"melody": ODE_TO_JOY, "forbid_parallels": True, "temperature": 0.8}, {
            "en": ("Ode to Joy (Beethoven)", "a tune everyone knows, with Bach's rule on: hymn-like chords under it."),
            "ko": ("환희의 송가(베토벤)", "누구나 아는 선율에 바흐의 규칙을 켜고: 찬송가 같은 화음이 붙습니다.")}),
        Preset("chorale", {"melody": NUN_DANKET, "forbid_parallels": True, "temperature": 0.8}, {
            "en": ("A real chorale tune: Nun danket alle Gott", "the melody Bach harmonised in BWV 386; compare the "
                                                              "model's voices with his."),
            "ko": ("실제 코랄 선율: 이제 모두 하나님께 감사드리세", "바흐가 BWV 386에서 화성을 붙인 선율입니다. 모델의 "
                                                              "성부를 바흐의 것과 비교해 보세요.")}),
        Preset("twinkle", {"melody": TWINKLE, "forbid_parallels": True, "temperature": 0.8}, {
            "en": ("Twinkle, twinkle, little star", "a nursery tune becomes a chorale."),
            "ko": ("반짝반짝 작은 별", "동요가 코랄이 됩니다.")}),
        Preset("no_rule", {"forbid_parallels": False}, {
            "en": ("The model alone: no parallel rule", "the lower voices may now move in parallel fifths or octaves "
                                                        "with the melody or each other."),
            "ko": ("모델만: 평행 규칙 없음", "이제 아래 성부들이 선율이나 서로와 평행 5도·8도로 움직일 수 있습니다.")},
            broken=True),
    )

    trainer = None  # the weights are audio/chorale's, trained by its command (``train_command``)

    @property
    def weights_dir(self) -> Path:
        return self.weights_root / "audio-chorale"  # the chorale model's own weights

    @cached_property
    def soprano_range(self) -> tuple[int, int]:
        """The lowest and highest soprano note of the chorales the model learned (C major / A minor)."""
        try:
            low, high = json.loads((self.weights_dir / "config.json").read_text())["voice_ranges"]["soprano"]
            return int(low), int(high)
        except (OSError, ValueError, KeyError, TypeError):
            return SOPRANO_RANGE

    @cached_property
    def params(self) -> tuple[Param, ...]:
        chorale = {p.name: p for p in super().params}
        return (
            Param("melody", "text", ODE_TO_JOY, "Note names with their lengths in beats, separated by spaces: C4 is "
                  "middle C, F#4 and Bb3 have a sharp and a flat, E4:2 lasts two beats and D4:0.5 half a beat (one "
                  "beat when no length is written); R is a rest. At most 24 bars of 4/4.",
                  label="Melody (the soprano)", max_length=1000,
                  translations={"ko": ("선율(소프라노)", "음 이름과 박자 수를 띄어 써 주세요. C4는 가운데 도, F#4와 "
                                                        "Bb3은 올림표와 내림표가 붙은 음, E4:2는 두 박, D4:0.5는 반 "
                                                        "박입니다(박자를 적지 않으면 한 박). R은 쉼표입니다. 4/4박자로 "
                                                        "24마디까지 쓸 수 있습니다.")}),
            Param("key", "choice", AUTO, "The melody's key. Auto: found from the melody (which notes it uses, how "
                  "long, and its last note). The model writes in C major or A minor, so the melody is moved there "
                  "and the result moved back.", label="Key of the melody", choices=(AUTO, *KEYS),
                  translations={"ko": ("선율의 조성", "선율의 조성입니다. 자동: 선율에서 알아냅니다(어떤 음을 얼마나 "
                                                    "길게 쓰는지, 마지막 음이 무엇인지). 모델은 다장조나 가단조로 "
                                                    "쓰므로 선율을 그리로 옮겼다가 결과를 다시 제자리로 옮깁니다.")},
                  choice_names={"en": {AUTO: "auto: hear it from the melody", **{k: key_name(k) for k in KEYS}},
                                "ko": {AUTO: "자동: 선율에서 알아내기", **{k: key_name(k, "ko") for k in KEYS}}}),
            Param("temperature", "slider", 0.8, "Below 1: safer, plainer chords; above 1: more surprising notes, "
                  "then wrong ones.", minimum=0.1, maximum=2.0, step=0.05,
                  translations={"ko": ("온도", "1보다 낮으면 더 안전하고 평범한 화음, 1보다 높으면 더 놀라운 음이, "
                                             "그다음엔 틀린 음이 나옵니다.")}),
            Param("forbid_parallels", "toggle", True, "On: skip any note of the lower voices that would move two "
                  "voices in parallel fifths or octaves, a rule of four-part harmony Bach follows. Off: the model "
                  "alone.", label="Follow Bach's rule: no parallel fifths or octaves",
                  translations={"ko": ("바흐의 규칙 지키기: 평행 5도·8도 금지", "켜면: 두 성부를 평행 5도나 평행 8도로 "
                                       "움직이게 할 아래 성부의 음은 건너뜁니다. 바흐가 지키는 4성부 화성의 "
                                       "규칙입니다. 끄면: 모델만으로 씁니다.")}),
            chorale["tempo"], chorale["instrument"], seed_param(),
        )

    def estimate_seconds(self, values: dict) -> float:
        try:
            bars = num_bars(parse_melody(values["melody"], self.soprano_range))
        except MelodyError:
            bars = 8
        return 0.06 * bars

    def validate(self, params: dict) -> dict:
        """The declared checks, then the melody itself: note names, lengths on the grid, the soprano's range."""
        values = super().validate(params)
        try:
            to_model_key(parse_melody(values["melody"], self.soprano_range), self.soprano_range,
                         parse_key(values["key"]))
        except MelodyError as e:
            raise MelodyParameterError(e, self.param("melody"), values["melody"]) from None
        return values

    def _generate(self, model, *, melody: str, key: str, temperature: float, forbid_parallels: bool, tempo: int,
                  instrument: str, seed: int) -> Iterator[Result]:
        import torch

        from genai_demo.data.chorales import (FIRST_PITCH, HOLD, MAJOR, MINOR, REST, STEPS_PER_BAR, TOKENS_PER_BAR,
                                              pitch_id)
        from genai_demo.models.chorale import harmonise

        notes = parse_melody(melody, self.soprano_range)
        shift, mode = to_model_key(notes, self.soprano_range, parse_key(key))
        soprano = []  # one token per eighth-note step, in C major / A minor
        for n in notes:
            soprano += [REST] * n.steps if n.pitch is None else [pitch_id(n.pitch + shift)] + [HOLD] * (n.steps - 1)
        bars = num_bars(notes)
        soprano += [REST] * (bars * STEPS_PER_BAR - len(soprano))  # the last bar filled with rest
        tonic = ((0 if mode == "major" else 9) - shift) % 12
        key = f"{MUSIC21_TONICS[tonic]} {mode}"  # the key it was written in (the one found, if auto)
        total_steps = bars * STEPS_PER_BAR
        generator = torch.Generator(self.device or "cpu").manual_seed(seed)  # on the model's device
        tokens, process, probs = [0, MAJOR if mode == "major" else MINOR], [], []
        confidence: dict[tuple[int, int], float] = {}  # (voice, step) -> the model's probability of a new lower note
        for step in harmonise(model, soprano, tokens[1], generator, self.shares_steps, temperature=temperature,
                              forbid_parallels=forbid_parallels):
            position = (len(tokens) - 2) % TOKENS_PER_BAR
            voice = (position - 1) % 4
            if position and voice:  # the lower voices: the model's own choices
                probs.append(step.p_model)
                if step.token_id >= FIRST_PITCH:
                    at = (len(tokens) - 2) // TOKENS_PER_BAR * STEPS_PER_BAR + (position - 1) // 4
                    confidence[(voice, at)] = step.p_model
            tokens.append(step.token_id)
            if (len(tokens) - 2) % TOKENS_PER_BAR == 0:  # a bar is complete
                bar = (len(tokens) - 2) // TOKENS_PER_BAR
                written = notes_of(tokens, -shift)
                recent = probs[-(TOKENS_PER_BAR - 1) * 3 // 4:]
                if bar % -(-bars // 12) == 0 or bar == bars:  # at most 12 frames, as the chorale keeps
                    process.append({
                        "label": Say("bar {bar} of {bars}: on average the model gave each lower voice's token (a "
                                     "note, hold or rest) a probability of {p:.0%}", bar=bar, bars=bars,
                                     p=sum(recent) / len(recent)),
                        "images": {Say("the piece so far; each new note pale if the model thought it unlikely"):
                                   piano_roll(written, total_steps, step_px=6, confidence=confidence)}})
                if bar < bars:
                    yield Result(images=[piano_roll(written, total_steps)], done=False, process=process,
                                 captions=[Say("bar {bar} of {bars}", bar=bar, bars=bars)], info={"mode": mode})
        written = notes_of(tokens, -shift)
        audio = synthesize(written, tempo, instrument)
        title = f"{self.id} seed {seed}"
        files = {"harmonised.mid": to_midi(written, tempo, title, PROGRAMS[instrument]),
                 "harmonised.wav": to_wav(audio, SAMPLE_RATE)}
        yield Result(images=[piano_roll(written, total_steps)], audio=(SAMPLE_RATE, audio), files=files,
                     process=process, captions=[Say("piano roll")],
                     info={"mode": mode, "key": key, "transposed": -shift, "num_notes": len(written),
                           "audio_seconds": round(len(audio) / SAMPLE_RATE, 2),
                           "mean_p_chosen": round(sum(probs) / max(1, len(probs)), 4),
                           "tokens": [int(t) for t in tokens]})

