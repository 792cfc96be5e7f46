"""Compare the four families: the same digit, the same seed, every image model, side by side.

Each model is timed and its images are judged by the digit classifier, so a class sees both what each
family draws and what it costs.
"""

from __future__ import annotations

from typing import Callable, Iterator

from genai_demo.contract import GenAIError, ModelAdapter, Param, Result, seed_param
from genai_demo.judge import DigitJudge
from genai_demo.registry import Registry

LINK_ID = "image/compare"  # what a link names instead of a model: ?tab=image&model=image/compare&seed=7&label=3...
PARAMS = (
    seed_param(),
    Param("label", "choice", "3", "The digit every model is asked to draw.", label="Digit",
          choices=tuple(str(d) for d in range(10)),
          translations={"ko": ("숫자", "모든 모델에게 그려 달라고 요청할 숫자입니다.")}),
    Param("num_images", "integer", 4, "How many images each model draws.", label="Images per model",
          minimum=1, maximum=16, step=1, translations={"ko": ("모델별 이미지 수", "각 모델이 그릴 이미지의 개수입니다.")}),
)


def compared(registry: Registry) -> list[str]:
    """The models that take part, in the registry's order: those that declare ``compared``."""
    return [m.id for m in registry if m.compared]


def validate(params: dict) -> dict:
    unknown = sorted(set(params) - {p.name for p in PARAMS})
    if unknown:
        raise GenAIError(f"compare has no parameter {', '.join(unknown)}")
    return {p.name: p.validate(params.get(p.name, p.default)) for p in PARAMS}


def compare(registry: Registry, judge: DigitJudge, run: Callable[[ModelAdapter, dict], Result] | None = None,
            **params) -> Iterator[dict]:
    """Yield one record per model as it finishes: images, seconds per image, classifier accuracy and confidence.

    ``run(adapter, params)`` makes one model's result (default: ``adapter.generate`` here; the app passes its
    serving layer's, so each model runs where its own requests run and an identical request is computed once).
    Every model is asked at once and the records come in the order the models finish, so the comparison takes as
    long as its slowest model, not the sum of all four (in a busy classroom the PixelCNN and diffusion wait in the
    image worker's queue: one after the other, a comparison took their two waits). A model that is unavailable
    yields a record with its reason instead, and the others still run.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    run = run or (lambda adapter, values: adapter.generate(**values))
    values = validate(params)
    digit = int(values["label"])
    asked = dict(seed=values["seed"], num_images=values["num_images"], label=values["label"])
    models = [registry.get(model_id) for model_id in compared(registry)]
    pool = ThreadPoolExecutor(max_workers=max(1, len(models)), thread_name_prefix="compare")
    try:
        running = {pool.submit(run, adapter, dict(asked)): adapter for adapter in models}
        for done in as_completed(running):
            adapter = running[done]
            record = {"model": adapter.id, "family": adapter.family}
            try:
                result = done.result()
            except GenAIError as e:
                yield {**record, "error": str(e)}
                continue
            verdict = judge.judge(result.images, [digit] * len(result.images))
            yield {**record, "images": result.images, "seconds_per_image": result.info["seconds"] / len(result.images),
                   "accuracy": verdict.accuracy, "confidence": sum(verdict.confidence) / len(verdict.confidence),
                   "predicted": verdict.predicted, "parameters": result.info["parameters"], "info": result.info}
    finally:  # the visitor left: models not yet started never start (those running finish into the shared cache)
        pool.shutdown(wait=False, cancel_futures=True)
