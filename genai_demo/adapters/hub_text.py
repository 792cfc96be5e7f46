"""``text/hf``: a Hugging Face text-generation model named by whoever launches the app.

The operator chooses the model (``--text-model ID_OR_FOLDER`` or ``$GENAI_TEXT_MODEL``: ``gpt2``,
``distilgpt2``, a small instruct model such as ``HuggingFaceTB/SmolLM2-135M-Instruct``); page visitors only
set its sampling controls. It runs through the same code as ``text/shakespeare`` (``CausalLMAdapter``), so
the next-token view works the same. Weights load only as safetensors and never with remote code. Offline
(``HF_HUB_OFFLINE=1``), a hub id that is not in the local cache fails at once with a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path

from genai_demo.adapters.hub import HubSource, cached_file, hub_offline, source_problem
from genai_demo.adapters.text import CausalLMAdapter, Encoded, LoadedLM, text_params
from genai_demo.contract import Param


def has_chat_template(source: str) -> bool:
    """Whether the tokenizer comes with a chat template (an instruct model), read from local files only."""
    if cached_file(source, "chat_template.jinja"):
        return True
    config = cached_file(source, "tokenizer_config.json")
    try:
        return bool(config and json.loads(config.read_text()).get("chat_template"))
    except (OSError, ValueError):
        return False


class HubTextAdapter(HubSource, CausalLMAdapter):
    id = "text/hf"
    family = "hub model"
    weights_files = ("config.json",)
    SECONDS_PER_TOKEN = None  # unknown: it depends on the operator's model
    # A hub model's slots are bigger (GPT-2: 75 MB of keys and values per sequence at its 1,024-token context):
    # fewer per chunk, and at most 512 tokens of context each.
    BATCH_WIDTH = 4
    MAX_WINDOW = 512
    shares_steps = BATCH_WIDTH

    def __init__(self, source: str, weights_root=None):
        super().__init__(weights_root)
        self.source = source
        self.chat = has_chat_template(source)
        self.title = f"Hugging Face model: {source}"
        self.description = (
            f"A pretrained {'instruction-following ' if self.chat else ''}language model from the Hugging Face hub "
            f"({source}), run by transformers with the same sampling loop as the Shakespeare model. It reads "
            "sub-word tokens rather than characters and was trained by others on far more text than this "
            "playground has; compare what it writes, and how sure it is of each next token."
        )
        self.translations = {"ko": {
            "title": f"Hugging Face 모델: {source}",
            "description": f"Hugging Face 허브의 사전 학습된 {'지시를 따르는 ' if self.chat else ''}언어 "
                           f"모델({source})로, transformers 라이브러리가 셰익스피어 모델과 같은 샘플링 루프로 "
                           "실행합니다. 글자가 아니라 하위 단어 토큰을 읽으며, 이 놀이터보다 훨씬 많은 텍스트로 다른 "
                           "사람들이 학습시켰습니다. 무엇을 쓰는지, 다음 토큰을 얼마나 확신하는지 비교해 보세요.",
        }}
        self.params = text_params("Once upon a time", ("sub-word pieces, about 3/4 of a word each",
                                                       "하위 단어 조각, 한 조각이 단어의 약 3/4"), 100, 50)
        if self.chat:
            self.params = self.params[:1] + (Param(
                "apply_chat_template", "toggle", True, "Wrap the prompt as a user's message in the model's chat "
                "format, so an instruct model answers it instead of continuing it.", label="Answer as a chat",
                translations={"ko": ("채팅으로 답하기", "시작 글을 모델의 채팅 형식에 맞춘 사용자 메시지로 감싸서, "
                                                     "지시를 따르는 모델이 이어 쓰는 대신 답하게 합니다.")}),
            ) + self.params[1:]



    def unavailable_reason(self) -> str | None:
        return self._load_error or source_problem(self.source, "config.json", "transformers model")

    def _load(self, source_dir):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()
        local_only = hub_offline() or Path(self.source).is_dir()
        tokenizer = AutoTokenizer.from_pretrained(self.source, local_files_only=local_only, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(self.source, local_files_only=local_only, use_safetensors=True,
                                                     trust_remote_code=False, dtype=torch.float32)
        return LoadedLM(model.eval().to(self.device), tokenizer)

    def _weights_version(self) -> str:
        return Path(self.source).name if Path(self.source).is_dir() else self.source  # no server paths in share links

    def start_ids(self, lm: LoadedLM) -> list[int]:
        bos = lm.tokenizer.bos_token_id
        return [bos] if bos is not None else super().start_ids(lm)

    def eos_token_id(self, lm: LoadedLM):
        eos = lm.model.generation_config.eos_token_id
        return eos if eos is not None else lm.tokenizer.eos_token_id

    def encode(self, lm: LoadedLM, prompt: str, apply_chat_template: bool = False, **extra) -> Encoded:
        if not (self.chat and apply_chat_template):
            return super().encode(lm, prompt)
        ids = lm.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                               tokenize=True, return_dict=True)["input_ids"]
        notes, window = [], self.window(lm)
        if len(ids) > window:
            notes.append(f"the prompt is {len(ids):,} tokens long but the model reads at most {window}: "
                         f"it sees only the last {window}")
            ids = ids[-window:]
        return Encoded(list(ids), prompt + "\n\n", notes)
