"""Text models that write one token at a time: ``text/shakespeare`` here, and the base that ``text/hf`` shares.

``CausalLMAdapter`` runs any transformers causal language model with its tokenizer: it turns the prompt into
tokens (an empty prompt starts from a new line, characters the tokenizer does not know are left out, a prompt
longer than the context is cut to its end, each with a note), then streams the text token by token from
``genai_demo.models.charlm.generate_stream``, seeded by a private generator. Every step records the top
candidates for the next token with their probabilities before and after temperature, top-k and top-p: the
"how it was written" view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from genai_demo.contract import ModelAdapter, Param, ParameterError, Preset, Result, seed_param
from genai_demo.words import Say

NUM_CANDIDATES = 10  # next-token candidates kept per step for the view


def text_params(prompt: str, unit: tuple[str, str], max_new_tokens: int, top_k: int,
                temperature: float = 0.8) -> tuple[Param, ...]:
    """The sampling controls, named as transformers' ``generate`` names them, with plain labels and help for students.
    ``unit``: what a token is, in English and Korean ("characters", "글자")."""
    return (
        Param("prompt", "text", prompt, "The text to continue; an empty prompt starts from a new line.",
              label="Prompt", max_length=2000,
              translations={"ko": ("시작 글", "이어서 쓸 텍스트입니다. 비어 있으면 새 줄에서 시작합니다.")}),
        Param("max_new_tokens", "integer", max_new_tokens, f"How many tokens ({unit[0]}) to write after the prompt.",
              label=f"Length ({unit[0].split(',')[0]})", minimum=1, maximum=1000, step=1,
              translations={"ko": (f"길이({unit[1].split(',')[0]} 수)",
                                   f"시작 글 뒤에 쓸 토큰({unit[1]})의 개수입니다.")}),
        Param("do_sample", "toggle", True, "On: draw each token at random from its probabilities. Off (greedy): "
              "always take the most likely token, which soon repeats itself.", label="Draw at random",
              translations={"ko": ("무작위로 뽑기", "켜면: 각 토큰을 확률에 따라 무작위로 뽑습니다. 끄면(탐욕적 "
                                                  "디코딩): 언제나 가장 가능성 높은 토큰을 고르므로 곧 같은 말을 "
                                                  "되풀이합니다.")}),
        Param("temperature", "slider", temperature, "Divides the scores before they become probabilities: below 1 "
              "sharpens them (safe, repetitive), above 1 flattens them (surprising, then babble).",
              label="Temperature", minimum=0.05, maximum=3.0, step=0.05,
              translations={"ko": ("온도", "점수를 확률로 바꾸기 전에 나누는 값입니다. 1보다 작으면 확률이 뾰족해지고"
                                         "(안전하지만 반복적), 1보다 크면 평평해집니다(놀랍다가 결국 횡설수설).")}),
        Param("top_k", "integer", top_k, "Draw only from the k most likely tokens; 0 keeps every token.",
              label="Only the k likeliest (top-k)", minimum=0, maximum=200, step=1,
              translations={"ko": ("가장 그럴듯한 k개만(top-k)", "가장 가능성 높은 k개의 토큰 중에서만 뽑습니다. 0이면 "
                                                               "모든 토큰을 남깁니다.")}),
        Param("top_p", "slider", 1.0, "Nucleus sampling: draw only from the most likely tokens whose probabilities "
              "add up to p; 1 keeps every token.", label="Likeliest up to a total of p (top-p)", minimum=0.0,
              maximum=1.0, step=0.01,
              translations={"ko": ("합이 p가 될 때까지만(top-p)", "확률의 합이 p가 될 때까지의 가장 가능성 높은 "
                                                                "토큰들 중에서만 뽑습니다. 1이면 모든 토큰을 "
                                                                "남깁니다.")}),
        Param("repetition_penalty", "slider", 1.0, "Makes every token already in the text less likely: 1 is off, "
              "about 1.2 discourages loops.", label="Repetition penalty", minimum=1.0, maximum=2.0, step=0.05,
              advanced=True,
              translations={"ko": ("반복 벌점", "이미 텍스트에 나온 토큰을 덜 나오게 합니다. 1은 끔, 1.2 정도면 같은 "
                                             "말의 반복을 줄입니다.")}),
        seed_param(),
    )


# Good and broken settings of any text model (the Shakespeare GPT and an operator's hub model alike).
TEXT_PRESETS = (
    Preset("good", {"temperature": 0.8, "do_sample": True}, {
        "en": ("Good: temperature 0.8", "lines that look like a play, mostly real words."),
        "ko": ("좋음: 온도 0.8", "희곡처럼 보이는 줄들, 대부분 실제 단어입니다.")}),
    Preset("babble", {"temperature": 2.0, "do_sample": True}, {
        "en": ("Broken: temperature 2", "babble: unlikely letters win, words fall apart."),
        "ko": ("망가짐: 온도 2", "횡설수설: 가능성 낮은 글자가 뽑혀 단어가 무너집니다.")}, broken=True),
    Preset("greedy", {"do_sample": False}, {
        "en": ("Broken: no random draw", "greedy: always the likeliest letter, so it soon loops (\"the seat of the "
                                         "seat\")."),
        "ko": ("망가짐: 무작위로 뽑지 않기", "탐욕적 디코딩: 언제나 가장 그럴듯한 글자만 골라 곧 같은 말을 "
                                         "되풀이합니다(\"the seat of the seat\").")}, broken=True),
)


@dataclass
class LoadedLM:
    """A causal LM with its tokenizer, and a cache of how each token id reads as text."""

    model: Any
    tokenizer: Any
    _pieces: dict = field(default_factory=dict)

    def piece(self, token_id: int) -> str:
        if token_id not in self._pieces:  # a dict read/write is atomic: two requests at once are fine
            self._pieces[token_id] = self.tokenizer.decode([token_id])
        return self._pieces[token_id]


@dataclass
class Encoded:
    ids: list[int]  # what the model reads
    prefix: str  # what the output text starts with, before the generated tokens
    notes: list[str]  # what was changed in the prompt, and why


class CausalLMAdapter(ModelAdapter):
    """A transformers causal LM and its tokenizer in one folder; subclasses declare id, texts and params."""

    modality = "text"
    family = "autoregressive"
    presets = TEXT_PRESETS
    SECONDS_PER_TOKEN: float | None = 0.004  # the Shakespeare GPT on 2 cores; a hub model's is unknown (None)
    # Requests running at once share the model's steps (genai_demo.batching): sequences per chunk, and the longest
    # context a sequence's slot holds (None: the model's own). Both fix the numbers a request's text comes from
    # (the shipped model's texts are the same at 8 and 16). A one-token step reads all the weights whatever the
    # rows, so 16 cost little more than 8: 16 texts at once 4.4-4.9 -> 3.5-3.7 s; one alone 1.3 -> 1.7-1.8 s.
    BATCH_WIDTH = 16
    MAX_WINDOW: int | None = None
    shares_steps = BATCH_WIDTH  # a request is one sequence: a chunk's worth of them step for about the price of one

    def estimate_seconds(self, values: dict) -> float | None:
        if self.SECONDS_PER_TOKEN is None:
            return None
        return self.SECONDS_PER_TOKEN * values["max_new_tokens"]
    words = {"ko": {"token {n}: {piece!r}, probability {p_model:.1%} by the model, {p_sampled:.1%} after the sampling "
                    "settings": "토큰 {n}: {piece!r}, 모델의 확률 {p_model:.1%}, 샘플링 설정을 거친 뒤 {p_sampled:.1%}"}}
    weights_files = ("config.json", "model.safetensors", "tokenizer.json")  # or its shards and their index

    def _load(self, weights_dir):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()  # no "Loading weights" bar in the app's log or the CLI's output
        # Safetensors only, and never code from the folder: a checkpoint is data, not a program.
        tokenizer = AutoTokenizer.from_pretrained(weights_dir, local_files_only=True, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(weights_dir, local_files_only=True, use_safetensors=True,
                                                     trust_remote_code=False, dtype=torch.float32)
        return LoadedLM(model.eval().to(self.device), tokenizer)

    def _count_parameters(self, lm: LoadedLM) -> int:
        return sum(p.numel() for p in lm.model.parameters())

    def validate(self, params: dict) -> dict:
        try:
            return super().validate(params)
        except ParameterError as e:
            if str(e).startswith("temperature=") and "out of range" in str(e):
                raise ParameterError(f"{e} (for always the most likely token, turn do_sample off)", param=e.param,
                                     reason=e.reason, value=e.value) from None
            raise

    # -- prompt ------------------------------------------------------------------
    def encode(self, lm: LoadedLM, prompt: str, **extra) -> Encoded:
        """The prompt as token ids the model can read, with a note for everything that had to change."""
        tok, notes = lm.tokenizer, []
        ids = tok(prompt, add_special_tokens=False, verbose=False)["input_ids"] if prompt else []
        unk = tok.unk_token_id
        if unk is not None and unk in ids:
            unseen = sorted({c for c in prompt if unk in tok(c, add_special_tokens=False)["input_ids"]})
            ids = [i for i in ids if i != unk]
            notes.append(f"left out {len(unseen)} character{'s' if len(unseen) != 1 else ''} the model never saw: "
                         + " ".join(unseen[:20]))
        if not ids:
            ids = self.start_ids(lm)
            if prompt:
                notes.append("nothing of the prompt is left to read: starting from a new line")
        window = self.window(lm)
        if len(ids) > window:
            notes.append(f"the prompt is {len(ids):,} tokens long but the model reads at most {window}: "
                         f"it sees only the last {window}")
            ids = ids[-window:]
        return Encoded(ids, prompt, notes)

    def window(self, lm: LoadedLM) -> int:
        """How many tokens the model reads at once here: its context, at most ``MAX_WINDOW``."""
        from genai_demo.models.charlm import context_length

        return min(context_length(lm.model), self.MAX_WINDOW or context_length(lm.model))

    def start_ids(self, lm: LoadedLM) -> list[int]:
        """What an empty prompt starts from: a new line."""
        return lm.tokenizer("\n", add_special_tokens=False)["input_ids"]

    def eos_token_id(self, lm: LoadedLM):
        return None  # write until max_new_tokens

    def suppress_ids(self, lm: LoadedLM) -> list[int]:
        """Never write ``<unk>`` (it stands for a character the model cannot spell), unless it is also end-of-text."""
        unk = lm.tokenizer.unk_token_id
        return [unk] if unk is not None and unk != self.eos_token_id(lm) else []

    # -- generation --------------------------------------------------------------
    def _generate(self, lm: LoadedLM, *, prompt: str, max_new_tokens: int, do_sample: bool, temperature: float,
                  top_k: int, top_p: float, repetition_penalty: float, seed: int, **extra) -> Iterator[Result]:
        import torch

        from genai_demo.models.charlm import generate_stream

        encoded = self.encode(lm, prompt, **extra)
        # Private, on the model's device: two students at once never share random state.
        generator = torch.Generator(self.device or "cpu").manual_seed(seed)
        new_ids: list[int] = []
        frames: list[dict] = []
        steps = generate_stream(lm.model, encoded.ids, generator, max_new_tokens=max_new_tokens, do_sample=do_sample,
                                temperature=temperature, top_k=top_k, top_p=top_p,
                                repetition_penalty=repetition_penalty, eos_token_id=self.eos_token_id(lm),
                                suppress_ids=self.suppress_ids(lm), num_candidates=NUM_CANDIDATES,
                                max_context=self.window(lm), width=self.BATCH_WIDTH)  # shared with other requests
        vocab = lm.model.config.vocab_size

        def stats(n: int) -> dict:
            return {"new_tokens": n, "prompt_tokens": len(encoded.ids), "notes": encoded.notes}

        for step in steps:
            new_ids.append(step.token_id)
            frames.append({
                "label": Say("token {n}: {piece!r}, probability {p_model:.1%} by the model, {p_sampled:.1%} after "
                             "the sampling settings", n=len(new_ids), piece=lm.piece(step.token_id),
                             p_model=step.p_model, p_sampled=step.p_sampled),
                "token": lm.piece(step.token_id), "p_model": step.p_model, "p_sampled": step.p_sampled,
                "candidates": [{"token": lm.piece(i), "p_model": pm, "p_sampled": ps, "chosen": i == step.token_id}
                               for i, pm, ps in step.candidates],
                "kept": step.kept, "vocab_size": vocab, "context_cut": step.recomputed,
            })
            if len(new_ids) < max_new_tokens:  # the frames so far too, so that a stopped run still shows them
                text = encoded.prefix + lm.tokenizer.decode(new_ids, skip_special_tokens=True)
                yield Result(text=text, done=False, process=frames, info=stats(len(new_ids)))
        text = encoded.prefix + lm.tokenizer.decode(new_ids, skip_special_tokens=True)
        yield Result(text=text, process=frames, info=stats(len(new_ids)))


class ShakespeareAdapter(CausalLMAdapter):
    id = "text/shakespeare"
    title = "GPT from scratch: Shakespeare, one character at a time"
    description = (
        "A small GPT-style transformer trained by this project on a million characters of Shakespeare's plays. It "
        "reads the text so far and gives every possible next character a probability; writing draws one character "
        "from those probabilities, appends it, and asks again. Temperature, top-k and top-p reshape the "
        "probabilities before each draw: open 'How it was written' to see them for every character."
    )
    translations = {"ko": {
        "title": "처음부터 만든 GPT: 셰익스피어, 한 번에 한 글자씩",
        "description": "이 프로젝트가 셰익스피어 희곡 백만 글자로 학습한 작은 GPT 방식의 트랜스포머입니다. 지금까지의 "
                       "텍스트를 읽고 다음에 올 수 있는 모든 글자에 확률을 줍니다. 글쓰기는 그 확률에서 한 글자를 "
                       "뽑아 덧붙이고 다시 묻는 일의 반복입니다. 온도, top-k, top-p는 매번 뽑기 전에 확률의 모양을 "
                       "바꿉니다. '어떻게 썼나'를 열면 글자마다 그 확률을 볼 수 있습니다.",
    }}
    params = text_params("ROMEO:\n", ("characters", "글자"), 300, 0)
    trainer = "genai_demo.train.charlm"
