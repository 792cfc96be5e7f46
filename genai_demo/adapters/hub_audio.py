"""``audio/hf``: a Hugging Face transformers text-to-audio model named by whoever launches the app.

The operator chooses the model (``--audio-model ID_OR_FOLDER`` or ``$GENAI_AUDIO_MODEL``: ``facebook/musicgen-small``,
or a VITS / MMS speech model); page visitors only set its controls. It runs through transformers'
``text-to-audio`` pipeline. Weights load only as safetensors and never with remote code. Offline
(``HF_HUB_OFFLINE=1``), a hub id that is not in the local cache fails at once with a clear message; the rest of the app
works.

Output: ``Result.audio == (sample_rate, samples)`` where ``samples`` is a 1-D numpy float32 array (mono) with values
in [-1, 1]. Stereo models (``musicgen-stereo-*``) are mixed down to mono by averaging the channels; values outside
[-1, 1] are clipped and non-finite values become 0.

Duration: MusicGen-style models write audio codec tokens, ``frame_rate`` frames per second (50 for MusicGen, read from
the audio codec's config: its sampling rate divided by its hop length), so ``duration`` seconds become
``ceil(duration * frame_rate) + num_codebooks - 1`` new tokens (MusicGen's delay pattern staggers its codebooks by one
frame each) and the waveform is then cut to exactly ``duration`` seconds. Models with no such codec (VITS / MMS speech,
Bark...) decide their own length: ``duration`` is ignored, the info record's notes say so, and the waveform is only
cut at the slider's maximum, 30 s.

Randomness: the pipeline samples with torch's global random generator, so each call seeds it under the adapter's lock
(one call at a time) inside ``torch.random.fork_rng``, which restores the global state afterwards.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Iterator

from genai_demo.adapters.hub import HubSource, cached_file, hub_offline, source_problem
from genai_demo.contract import ModelAdapter, Param, ParameterError, Result, seed_param

MAX_SECONDS = 30
MUSICGEN_TYPES = ("musicgen", "musicgen_melody")  # models whose generate() takes guidance_scale


def safetensors_problem(source: str) -> str | None:
    """Why ``source`` has no safetensors weights on this machine (checked only where that is known offline), or None."""
    local = Path(source)
    if local.is_dir():
        if any(local.glob("*.safetensors")):
            return None
        others = sorted(p.name for p in local.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt", ".h5"))
        found = f" (found only {', '.join(others[:3])})" if others else ""
        return (f"{local} has no safetensors weights{found}; this app loads only .safetensors checkpoints: "
                "convert it with transformers' save_pretrained")
    if not local.exists() and hub_offline() and not (cached_file(source, "model.safetensors")
                                                     or cached_file(source, "model.safetensors.index.json")):
        return (f"'{source}' has no safetensors weights in the local Hugging Face cache and the hub is offline "
                "(HF_HUB_OFFLINE=1); connect and unset it, or give a local folder with .safetensors weights")
    return None


class HubAudioAdapter(HubSource, ModelAdapter):
    id = "audio/hf"
    modality = "audio"
    family = "hub pipeline"

    def estimate_seconds(self, values: dict) -> float:
        # hundreds of decoder passes per second of sound on the CPU (a small MusicGen: about 2 s each)
        return 2.0 * values["duration"]
    weights_files = ("config.json",)

    def __init__(self, source: str, weights_root=None):
        super().__init__(weights_root)
        self.source = source
        self.title = f"Hugging Face audio model: {source}"
        self.description = (
            f"A pretrained text-to-audio model from the Hugging Face hub ({source}), run with the transformers "
            "library. MusicGen-style models work like MusicLM: a text encoder reads your description, then a "
            "transformer writes the music as a sequence of audio codec tokens (about 50 per second, like the "
            "characters of the text model), and the codec's decoder turns those tokens into a waveform. Speech "
            "models (VITS / MMS) read the text aloud instead. It was trained by others on far more data than this "
            "playground has; listen to how well it follows the description, and to what it costs."
        )
        self.translations = {"ko": {
            "title": f"Hugging Face 오디오 모델: {source}",
            "description": f"Hugging Face 허브의 사전 학습된 텍스트-오디오 모델({source})로, transformers 라이브러리가 "
                           "실행합니다. MusicGen 계열 모델은 MusicLM처럼 동작합니다. 텍스트 인코더가 설명을 읽고, "
                           "트랜스포머가 음악을 오디오 코덱 토큰의 연속(초당 약 50개, 텍스트 모델의 글자처럼)으로 "
                           "쓰면, 코덱의 디코더가 그 토큰을 파형으로 바꿉니다. 음성 모델(VITS / MMS)은 대신 텍스트를 "
                           "소리 내어 읽습니다. 이 놀이터보다 훨씬 많은 데이터로 다른 사람들이 학습시켰습니다. 설명을 "
                           "얼마나 잘 따르는지, 비용이 얼마나 드는지 들어 보세요.",
        }}
        self._run_lock = threading.Lock()  # the pipeline samples with torch's global RNG: one call at a time
        self.params = (
            Param("prompt", "text", "a calm organ chorale in four voices",
                  "What the audio should sound like, in words (instruments, mood, style; or the words to speak).",
                  label="Description", max_length=500,
                  translations={"ko": ("설명", "오디오가 어떻게 들려야 하는지 말로 적습니다(악기, 분위기, 양식, 또는 "
                                             "읽을 문장).")}),
            Param("duration", "slider", 5, "How many seconds of audio to make: longer takes proportionally longer. "
                  "Speech models choose their own length and ignore it.", label="Duration (seconds)",
                  minimum=1, maximum=MAX_SECONDS, step=1,
                  translations={"ko": ("길이(초)", "만들 오디오의 길이(초)입니다. 길수록 그만큼 오래 걸립니다. 음성 "
                                                "모델은 스스로 길이를 정하므로 무시합니다.")}),
            Param("guidance_scale", "slider", 3.0, "How strongly to follow the description (classifier-free "
                  "guidance); 1 turns it off. Only MusicGen-style models use it.", label="Guidance scale",
                  minimum=1.0, maximum=10.0, step=0.5, advanced=True,
                  translations={"ko": ("가이던스 세기", "설명을 얼마나 강하게 따를지(분류기 없는 가이던스)입니다. 1이면 "
                                                      "끕니다. MusicGen 계열 모델만 사용합니다.")}),
            seed_param(),
        )



    def unavailable_reason(self) -> str | None:
        return (self._load_error or source_problem(self.source, "config.json", "transformers model")
                or safetensors_problem(self.source))

    def validate(self, params: dict) -> dict:
        values = super().validate(params)
        if not values["prompt"].strip():
            raise ParameterError("prompt is empty: expected a description of the audio, "
                                 f"{self.param('prompt').describe_range()}", param=self.param("prompt"), reason="empty")
        return values

    def _load(self, source_dir):
        import torch
        from transformers import AutoConfig, AutoModelForTextToWaveform, AutoTokenizer, pipeline
        from transformers.models.auto.modeling_auto import MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()
        # Each part is loaded here with these options, then handed to pipeline(): its own loading would not
        # pass local_files_only on, and would fetch a vocoder the operator did not name for spectrogram models.
        hub = dict(local_files_only=hub_offline() or Path(self.source).is_dir(), trust_remote_code=False)
        config = AutoConfig.from_pretrained(self.source, **hub)
        if config.model_type not in MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES:
            raise ValueError(f"'{config.model_type}' is not a text-to-waveform model; supported: "
                             + ", ".join(MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES))
        model = AutoModelForTextToWaveform.from_pretrained(self.source, config=config, use_safetensors=True,
                                                           dtype=torch.float32, **hub).eval()
        tokenizer = AutoTokenizer.from_pretrained(self.source, **hub)
        processor = None
        if config.model_type not in MUSICGEN_TYPES:  # e.g. Bark reads its text through a processor
            try:
                from transformers import AutoProcessor, ProcessorMixin

                processor = AutoProcessor.from_pretrained(self.source, **hub)
                processor = processor if isinstance(processor, ProcessorMixin) else None
            except Exception:  # most models (VITS) have none: the tokenizer is enough
                processor = None
        kwargs = {"processor": processor} if processor is not None else {}
        return pipeline("text-to-audio", model=model, tokenizer=tokenizer, device=self.device or "cpu", **kwargs)

    def _count_parameters(self, pipe) -> int:
        return sum(p.numel() for p in pipe.model.parameters())

    def _weights_version(self) -> str:
        return Path(self.source).name if Path(self.source).is_dir() else self.source  # no server paths in share links

    @staticmethod
    def codec_timing(config) -> tuple[float | None, int]:
        """(codec frames per second, codebooks written per frame) of a MusicGen-style model; (None, 0) for others."""
        codec, decoder = getattr(config, "audio_encoder", None), getattr(config, "decoder", None)
        frame_rate = getattr(codec, "frame_rate", None)
        if frame_rate is None and codec is not None and getattr(codec, "sampling_rate", None) \
                and getattr(codec, "hop_length", None):
            frame_rate = codec.sampling_rate / codec.hop_length
        if not frame_rate or decoder is None:
            return None, 0
        return float(frame_rate), int(getattr(decoder, "num_codebooks", 1))

    def _generate(self, pipe, *, prompt: str, duration: float, guidance_scale: float, seed: int,
                  **extra) -> Iterator[Result]:
        import numpy as np
        import torch

        config, notes, info = pipe.model.config, [], {}
        frame_rate, codebooks = self.codec_timing(config)
        generate_kwargs = {}
        uses_duration = bool(frame_rate and pipe.model.can_generate())  # its length is set by duration
        if uses_duration:
            tokens = math.ceil(duration * frame_rate) + max(codebooks - 1, 0)
            generate_kwargs.update(max_new_tokens=tokens, do_sample=True)
            info.update(frame_rate=frame_rate, new_tokens=tokens)
            if config.model_type in MUSICGEN_TYPES:
                generate_kwargs["guidance_scale"] = guidance_scale
            else:
                notes.append("this model does not use guidance_scale: it was ignored")
        else:
            notes.append("this model chooses its own length: duration was ignored")
            notes.append("this model does not use guidance_scale: it was ignored")
        with self._run_lock, torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            out = pipe(prompt, generate_kwargs=generate_kwargs) if generate_kwargs else pipe(prompt)
        sample_rate = int(out["sampling_rate"])
        audio = np.asarray(out["audio"], dtype=np.float32)
        if audio.ndim == 2:  # (channels, samples) from the pipeline: mix down to mono
            audio = audio.mean(axis=0 if audio.shape[0] <= audio.shape[1] else 1)
        audio = np.clip(np.nan_to_num(audio.reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
        limit = int(round((duration if uses_duration else MAX_SECONDS) * sample_rate))
        if audio.size > limit:
            if not uses_duration:
                notes.append(f"the audio was cut at {MAX_SECONDS} s")
            audio = audio[:limit]
        info.update(sample_rate=sample_rate, audio_seconds=round(audio.size / sample_rate, 3), notes=notes)
        yield Result(audio=(sample_rate, audio.astype(np.float32)), info=info)
