"""``text/score``: the Shakespeare GPT reads a text the visitor wrote and says how surprised it was by each character.

Nothing is generated. The model gives every character a probability from the characters before it
(``models.charlm_read.score_ids``); a character's surprise is -log2 p, in bits, and the text's perplexity,
exp(mean -ln p), is how many characters the model was choosing between on average. The same figure for held-out
Shakespeare (the last 10% of the text, which the model never trained on, read the same way) is computed once by
``bench/score_bench.py`` and shipped beside the weights (``heldout_score.json``), so the page can put the two side
by side. The adapter also gives each layer's and head's attention at one position (``attention``), for the text
tab's attention view.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Iterator

from genai_demo.adapters.text import CausalLMAdapter, LoadedLM
from genai_demo.contract import Param, ParameterError, Preset, Result
from genai_demo.words import Say

HELDOUT_FILE = "heldout_score.json"  # written by bench/score_bench.py --write
MAX_CHARS = 2000
NUM_CANDIDATES = 5
# The attention view's inputs: any text the tab shows (a prompt and what was written after it), and a position in it.
ATTENTION_TEXT = Param("text", "text", "", "The text whose attention is shown.", label="Text", max_length=4000,
                       translations={"ko": ("텍스트", "주의를 보여 줄 텍스트입니다.")})
ATTENTION_POSITION = Param("position", "integer", 1, "Which character to look from (1 = the first).",
                           label="Position", minimum=1, maximum=4000,
                           translations={"ko": ("위치", "어느 글자에서 볼지입니다(1 = 첫 글자).")})
SONNET = ("Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
          "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date.")
MODERN = "Hey, did you see the game last night? It was lit, honestly the best match of the season."
RANDOM = "qzx vbn wqp jjk lxx zzq ptv kwy mnb xcv"


class TextScoreAdapter(CausalLMAdapter):
    id = "text/score"
    title = "Score my text: how surprised is the Shakespeare GPT?"
    description = (
        "Write or paste any text. The Shakespeare GPT reads it one character at a time and, before each character, "
        "gives every possible next character a probability. Each character is coloured by how surprised the model "
        "was (its probability, shown in bits: 1 bit is a coin toss, 7 bits is 1 in 128). The perplexity sums it "
        "up: roughly, how many characters the model was choosing between on average. Compare yours with the "
        "figure for Shakespeare the model never saw."
    )
    translations = {"ko": {
        "title": "내 글 채점하기: 셰익스피어 GPT는 얼마나 놀랄까요?",
        "description": "아무 글이나 쓰거나 붙여 넣으세요. 셰익스피어 GPT가 한 글자씩 읽으며, 각 글자 앞에서 다음에 올 수 "
                       "있는 모든 글자에 확률을 줍니다. 각 글자는 모델이 얼마나 놀랐는지에 따라 색칠됩니다(확률을 "
                       "비트로 나타냅니다. 1비트는 동전 던지기, 7비트는 128분의 1). 퍼플렉서티는 이를 하나로 "
                       "요약합니다. 대략 모델이 평균 몇 개의 글자 중에서 고르고 있었는지입니다. 모델이 보지 못한 "
                       "셰익스피어의 값과 비교해 보세요. 모델은 영어 글자만 알기 때문에 한글은 채점하지 않습니다.",
        "family": "채점",
    }}
    family = "scoring"
    deterministic = True  # nothing is drawn at random: no seed (the contract's tests ask every other model for one)
    params = (
        Param("text", "text", SONNET, "The text the model reads and scores, at most 2,000 characters. The model "
              "knows only the characters of Shakespeare's English; any others are left out of the score.",
              label="Text to score", max_length=MAX_CHARS,
              translations={"ko": ("채점할 글", "모델이 읽고 채점할 글로, 2,000자까지입니다. 모델은 셰익스피어 영어에 "
                                              "나오는 글자만 알기 때문에 그 밖의 글자는 채점에서 빠집니다.")}),
    )
    presets = (
        Preset("sonnet", {"text": SONNET}, {
            "en": ("Shakespeare: Sonnet 18", "verse in his own style: most characters expected, a low perplexity."),
            "ko": ("셰익스피어: 소네트 18번", "그의 문체로 쓴 시: 대부분의 글자를 예상해 퍼플렉서티가 낮습니다.")}),
        Preset("modern", {"text": MODERN}, {
            "en": ("Modern chat", "today's words and slang: more surprise, a higher perplexity."),
            "ko": ("요즘 대화", "오늘날의 단어와 속어: 더 많이 놀라고 퍼플렉서티가 높아집니다.")}),
        Preset("random", {"text": RANDOM}, {
            "en": ("Random letters", "no English at all: nearly every character a surprise."),
            "ko": ("무작위 글자", "전혀 영어가 아님: 거의 모든 글자가 놀라움입니다.")}, broken=True),
    )
    trainer = None  # the weights are text/shakespeare's, trained by its command (``train_command``)
    words = {"ko": {
        "character {n}: {piece!r}, probability {p:.1%} by the model, a surprise of {bits:.1f} bits":
            "글자 {n}: {piece!r}, 모델의 확률 {p:.1%}, 놀라움 {bits:.1f}비트",
        "character {n}: {piece!r}, which the model never saw: not scored":
            "글자 {n}: {piece!r}, 모델이 본 적 없는 글자라 채점하지 않았습니다",
        "left out {n} characters the model never saw: {chars}": "모델이 본 적 없는 글자 {n}개는 뺐습니다: {chars}",
    }}

    @property
    def weights_dir(self) -> Path:
        return self.weights_root / "text-shakespeare"  # the Shakespeare GPT's own weights

    @property
    def train_command(self) -> str:
        return f"python -m genai_demo train text/shakespeare --data-dir DATA_DIR --out {self.weights_dir}"

    def estimate_seconds(self, values: dict) -> float:
        return 0.02 + 0.00005 * len(values["text"])  # one batched pass over windows of 256 characters

    @cached_property
    def heldout(self) -> dict | None:
        """The shipped figures for held-out Shakespeare (None if the file is missing or unreadable)."""
        try:
            data = json.loads((self.weights_dir / HELDOUT_FILE).read_text())
            return {"perplexity": float(data["perplexity"]), "chars": int(data["chars"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def validate(self, params: dict) -> dict:
        values = super().validate(params)
        if not values["text"].strip():
            raise ParameterError("text is empty: write something for the model to read", param=self.param("text"),
                                 reason="empty", value=values["text"])
        return values

    # -- reading a text --------------------------------------------------------------------------------------------
    def char_ids(self, lm: LoadedLM, text: str) -> list[list[int]]:
        """Each character's token ids ([] for one the model cannot read), reading characters one by one so that a
        score belongs to the character it was given for (an accented letter reads as its plain letter)."""
        tok, unk, ids, known = lm.tokenizer, lm.tokenizer.unk_token_id, [], {}
        for c in text:
            if c not in known:
                got = tok(c, add_special_tokens=False, verbose=False)["input_ids"]
                known[c] = [] if not got or unk in got else got
            ids.append(known[c])
        return ids

    def scored_chars(self, lm: LoadedLM, text: str) -> tuple[list[float | None], list, list[str]]:
        """Per character: ln p (None if not scored) and the model's likeliest characters there; and the unread."""
        from genai_demo.models.charlm_read import score_ids

        per_char = self.char_ids(lm, text)
        flat = self.start_ids(lm) + [i for ids in per_char for i in ids]
        unread = list(dict.fromkeys(c for c, ids in zip(text, per_char) if not ids))  # in order of appearance
        if len(flat) < 2:
            return [None] * len(text), [[] for _ in text], unread
        scored = score_ids(lm.model, flat, num_candidates=NUM_CANDIDATES)
        logp, candidates, k = [], [], 0
        for ids in per_char:
            if not ids:
                logp.append(None)
                candidates.append([])
                continue
            logp.append(sum(scored.logp[k : k + len(ids)]))
            candidates.append(scored.candidates[k])  # what the model expected where the character begins
            k += len(ids)
        return logp, candidates, unread

    def _generate(self, lm: LoadedLM, *, text: str) -> Iterator[Result]:
        logp, candidates, unread = self.scored_chars(lm, text)
        vocab = lm.model.config.vocab_size
        frames = []
        for n, (c, lp, cands) in enumerate(zip(text, logp, candidates), start=1):
            if lp is None:
                frames.append({"label": Say("character {n}: {piece!r}, which the model never saw: not scored", n=n,
                                            piece=c),
                               "token": c, "p_model": None, "p_sampled": None, "candidates": [], "kept": vocab,
                               "vocab_size": vocab, "context_cut": False})
                continue
            p = math.exp(lp)
            frames.append({
                "label": Say("character {n}: {piece!r}, probability {p:.1%} by the model, a surprise of {bits:.1f} "
                             "bits",
                             n=n, piece=c, p=p, bits=-lp / math.log(2)),
                "token": c, "p_model": p, "p_sampled": p, "kept": vocab, "vocab_size": vocab, "context_cut": False,
                "candidates": [{"token": lm.piece(i), "p_model": q, "p_sampled": q, "chosen": lm.piece(i) == c}
                               for i, q in cands]})
        values = [lp for lp in logp if lp is not None]
        info = {"scored_chars": len(values), "new_tokens": None,
                "perplexity": round(math.exp(-sum(values) / len(values)), 3) if values else None,
                "bits_per_char": round(-sum(values) / len(values) / math.log(2), 4) if values else None,
                "heldout_perplexity": (self.heldout or {}).get("perplexity"),
                "notes": [Say("left out {n} characters the model never saw: {chars}", n=len(unread),
                              chars=" ".join(unread[:20]))] if unread else []}
        yield Result(text=text, process=frames, info=info)

    # -- attention -------------------------------------------------------------------------------------------------
    def attention(self, text: str, position: int) -> dict:
        """Every layer's and head's attention, at character ``position`` (1 = the first), over the characters up to
        it that the model reads (at most its context): ``{"chars": [...], "weights": [[[w, ...] per head] per
        layer], "position": n}``; the first entry of ``chars`` is the start token (a new line)."""
        from genai_demo.models.charlm import context_length
        from genai_demo.models.charlm_read import attention_maps

        text = ATTENTION_TEXT.validate(text)
        position = Param("position", "integer", 1, ATTENTION_POSITION.help, label=ATTENTION_POSITION.label,
                         minimum=1, maximum=max(1, len(text)), translations=ATTENTION_POSITION.translations
                         ).validate(position)
        lm = self.load()
        per_char = self.char_ids(lm, text[:position])
        chars = [c for c, ids in zip(text[:position], per_char) for _ in ids]
        ids = [i for ids in per_char for i in ids]
        if not ids:
            raise ParameterError(f"position={position}: the model reads none of the characters up to there",
                                 param=ATTENTION_TEXT, reason="empty", value=text[:position])
        keep = context_length(lm.model) - 1
        cut = len(ids) > keep
        chars, ids = ["\n"] + chars[-keep:], self.start_ids(lm) + ids[-keep:]
        maps = attention_maps(lm.model, ids)[:, :, -1, :]  # (layers, heads, T): the last position's row
        return {"chars": chars, "position": position, "cut": cut,
                "weights": [[[round(float(w), 5) for w in head] for head in layer] for layer in maps]}
