"""``image/hf``: a Hugging Face diffusers pipeline named by whoever launches the app.

The operator chooses the pipeline (``--image-pipeline ID_OR_FOLDER`` or ``$GENAI_IMAGE_PIPELINE``); page
visitors only set its sampling controls. Two kinds are supported: unconditional pipelines (DDPM, DDIM,
e.g. ``google/ddpm-cifar10-32``) and text-to-image pipelines with a prompt (e.g. a small Stable
Diffusion). Weights load only as safetensors and never with remote code. Offline (``HF_HUB_OFFLINE=1``),
a hub id that is not in the local cache fails at once with a clear message; the rest of the app works.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Iterator

from genai_demo.adapters.hub import HubSource, cached_file, hub_offline, source_problem
from genai_demo.contract import ModelAdapter, Param, Preset, Result, seed_param

TASKS = ("unconditional", "text-to-image")
UNCONDITIONAL_CLASSES = ("DDPMPipeline", "DDIMPipeline", "PNDMPipeline", "ScoreSdeVePipeline", "KarrasVePipeline")


def detect_task(source: str) -> str:
    """Read the pipeline class from model_index.json (local folder or hub cache); text-to-image if unknown."""
    index = cached_file(source, "model_index.json")
    if index is not None and index.is_file():
        try:
            if json.loads(index.read_text()).get("_class_name") in UNCONDITIONAL_CLASSES:
                return "unconditional"
        except (OSError, ValueError):
            pass
    return "text-to-image"


class HubImageAdapter(HubSource, ModelAdapter):
    kind = "pipeline"
    id = "image/hf"
    modality = "image"
    family = "hub pipeline"

    def estimate_seconds(self, values: dict) -> float:
        # a pipeline runs one network pass per step and image; even a small one takes about 0.1 s a pass here
        return 0.1 * values["num_inference_steps"] * values["num_images"]

    def __init__(self, source: str, task: str = "auto", weights_root=None):
        super().__init__(weights_root)
        self.source = source
        self.task = detect_task(source) if task == "auto" else task
        if self.task not in TASKS:
            raise ValueError(f"unknown pipeline task {task!r}; use one of {', '.join(TASKS)} or auto")
        self.title = f"Hugging Face pipeline: {source}"
        self.description = (
            f"A ready-made {'text-to-image' if self.task == 'text-to-image' else 'unconditional'} diffusion pipeline "
            f"from the Hugging Face hub ({source}), run with the diffusers library. It was trained by others on far "
            "more data and computers than this playground has; compare its cost and quality with the small models."
        )
        self.translations = {"ko": {
            "title": f"Hugging Face 파이프라인: {source}",
            "description": f"Hugging Face 허브의 완성된 {'텍스트-이미지 ' if self.task == 'text-to-image' else '무조건부 '}"
                           f"확산 파이프라인({source})으로, diffusers 라이브러리가 실행합니다. 이 놀이터보다 훨씬 많은 "
                           "데이터와 컴퓨터로 다른 사람들이 학습시켰습니다. 작은 모델들과 비용과 품질을 비교해 보세요.",
        }}
        self._run_lock = threading.Lock()  # a pipeline's scheduler holds per-call state: one call at a time
        common = (
            seed_param(),
            Param("num_images", "integer", 1 if self.task == "text-to-image" else 4, "How many images to make.",
                  label="Number of images", minimum=1, maximum=4 if self.task == "text-to-image" else 16, step=1,
                  translations={"ko": ("이미지 수", "만들 이미지의 개수입니다.")}),
            Param("num_inference_steps", "integer", 25 if self.task == "text-to-image" else 50,
                  "How many denoising steps: more is slower and usually cleaner.", label="Denoising steps",
                  minimum=1, maximum=1000, step=1,
                  translations={"ko": ("노이즈 제거 단계 수", "노이즈를 걷어 내는 단계의 수입니다. 많을수록 느리지만 "
                                                           "대개 더 깨끗합니다.")}),
        )
        if self.task == "text-to-image":
            self.params = (Param("prompt", "text", "a watercolour painting of a lighthouse at dawn",
                                 "What the picture should show, in words.", max_length=500,
                                 translations={"ko": ("설명", "그림이 보여 줄 내용을 말로 적습니다.")}),) + common + (
                Param("negative_prompt", "text", "", "What the picture should not show.", label="What to leave out",
                      max_length=500, advanced=True,
                      translations={"ko": ("빼고 싶은 것", "그림에 나오지 않아야 할 내용입니다.")}),
                Param("guidance_scale", "slider", 7.5, "How strongly to follow the prompt (classifier-free guidance); "
                      "0-1 mostly ignores it.", label="Guidance scale", minimum=0.0, maximum=20.0, step=0.5,
                      translations={"ko": ("가이던스 세기", "설명을 얼마나 강하게 따를지(분류기 없는 가이던스)입니다. "
                                                          "0~1이면 거의 무시합니다.")}),
            )
        else:
            self.params = common


    presets = (
        Preset("one_step", {"num_inference_steps": 1}, {
            "en": ("Broken: one denoising step", "mostly noise: one step cannot undo it."),
            "ko": ("망가짐: 노이즈 제거 1단계", "거의 노이즈입니다. 한 단계로는 노이즈를 걷어 낼 수 없습니다.")},
            broken=True),
    )

    def unavailable_reason(self) -> str | None:
        return self._load_error or source_problem(self.source, "model_index.json", "diffusers pipeline")

    def _load(self, source_dir):
        import torch
        from diffusers import DiffusionPipeline

        pipe = DiffusionPipeline.from_pretrained(
            self.source, use_safetensors=True, local_files_only=hub_offline() or Path(self.source).is_dir(),
            dtype=torch.float32, low_cpu_mem_usage=False,
        )
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(self.device)


    def _count_parameters(self, pipe) -> int:
        return sum(p.numel() for c in pipe.components.values() if hasattr(c, "parameters") for p in c.parameters())

    def _weights_version(self) -> str:
        return Path(self.source).name if Path(self.source).is_dir() else self.source  # no server paths in share links

    def _generate(self, pipe, *, seed: int, num_images: int, num_inference_steps: int, **extra) -> Iterator[Result]:
        import torch

        generator = torch.Generator(self.device or "cpu").manual_seed(seed)  # on the pipeline's device
        with self._run_lock:
            if self.task == "text-to-image":
                out = pipe(prompt=extra["prompt"] or " ", negative_prompt=extra["negative_prompt"] or None,
                           num_images_per_prompt=num_images, num_inference_steps=num_inference_steps,
                           guidance_scale=extra["guidance_scale"], generator=generator, output_type="pil")
            else:
                out = pipe(batch_size=num_images, num_inference_steps=num_inference_steps, generator=generator,
                           output_type="pil")
        yield Result(images=list(out.images), labels=[-1] * num_images, captions=[""] * num_images)
