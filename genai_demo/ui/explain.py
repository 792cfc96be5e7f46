"""The "How it works" section under the image tab's outputs: one sub-tab per family, and how each model trained.

- GAN: the discriminator's score of each generated digit; a walk through latent space between two seeds, as an
  animated GIF and a strip of frames.
- VAE: a clickable 2-D map of the latent space with real digits placed where the encoder puts them; a morph
  from one digit into another.
- Diffusion and autoregressive: the last generation's process (already scrubbable in "How it was drawn") as a
  downloadable animated GIF.
- Training: every shipped model's loss curves and the samples it saved while training (text models included).

The pictures and numbers come from ``genai_demo.explain`` (no gradio there). Every event is private (not an API
endpoint). Strings live in ``STRINGS`` (page text, no braces: the browser formats it) and ``MESSAGES``
(``str.format`` templates that handlers fill), both registered with ``genai_demo.ui.i18n``.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import gradio as gr

from genai_demo.contract import MAX_SEED, GenAIError
from genai_demo.ui import i18n

log = logging.getLogger(__name__)

DIGITS = tuple(str(d) for d in range(10))
GIF_SCALE = 6  # 28x28 digits are animated at 168x168, nearest-neighbour
DECODED_SCALE = 8  # the decoded point is shown at 224x224

STRINGS = {
    "en": {
        "explain:title": "How it works, family by family",
        "explain:intro": "Look inside the models: what the GAN's critic thinks of its digits, a map of the VAE's "
                         "latent space, the whole drawing process as an animation, and how each model learned.",
        "explain:tab:gan": "GAN: critic and latent walk",
        "explain:tab:vae": "VAE: latent map",
        "explain:tab:process": "Diffusion and autoregressive: the process",
        "explain:tab:training": "Training",
        "explain:seed": "Seed",
        "explain:digit": "Digit",
        "explain:frames": "Frames",
        "explain:frames:info": "How many steps the animation takes from start to end.",
        "explain:animation": "Animation",
        "explain:strip": "Frames along the way",
        "explain:gan:intro": "### The discriminator's verdict\nThe GAN learned in a contest: its **discriminator** D "
                             "was shown real digits and the generator's fakes and trained to tell them apart, while "
                             "the generator was trained to fool it. The shipped checkpoint keeps D, so we can ask it "
                             "about every digit the generator draws. Its score runs from 0 (surely fake) to 1 "
                             "(surely a real digit of that class). D is a training signal, not a fair judge: at the "
                             "end of training the contest is balanced, so D is often unsure.",
        "explain:gan:seed:info": "The same seed and settings as in the GAN panel give the same digits.",
        "explain:gan:num_images": "Number of images",
        "explain:gan:truncation": "Truncation",
        "explain:gan:truncation:info": "Scales the noise fed to the generator, as in the GAN panel.",
        "explain:gan:score": "Ask the discriminator",
        "explain:gan:scored": "Generated digits and D's score",
        "explain:gan:walk_intro": "### A walk through latent space\nThe generator turns a list of random numbers, a "
                                  "point in its latent space, into a digit. Each seed gives one point: the first "
                                  "digit the GAN draws with that seed. The walk moves from seed A's point to seed "
                                  "B's along an arc and draws the digit at every step. Nearby points give similar "
                                  "digits, so the digit changes smoothly. The numbers under the frames are D's "
                                  "scores.",
        "explain:gan:seed_a": "Seed A",
        "explain:gan:seed_b": "Seed B",
        "explain:gan:walk": "Walk from A to B",
        "explain:vae:intro": "### A map of the latent space\nThe VAE squeezes every digit into a handful of numbers "
                             "(16 for the shipped model), its latent code, and draws digits back from codes. That "
                             "many numbers cannot be drawn on a page, so this map is a flat slice through them: the "
                             "plane along the two directions in which real digits' codes differ most, found by "
                             "principal component analysis; the other directions stay at the average code. Each "
                             "tile is what the decoder draws at that point, and the dots are real digits placed "
                             "where the encoder puts them. The digit is given to the decoder separately, so the "
                             "code only holds the handwriting (slant, thickness, width): dots of every digit share "
                             "one map. **Click the map**, or move the sliders, to decode any point.",
        "explain:vae:show": "Show real digits",
        "explain:vae:show:this": "this digit",
        "explain:vae:show:all": "all digits",
        "explain:vae:show:none": "none",
        "explain:vae:draw": "Draw the map",
        "explain:vae:map": "Latent map: click a point to decode it",
        "explain:vae:legend": "Dot colours, one per digit:",
        "explain:vae:decoded": "Decoded at the chosen point",
        "explain:vae:x": "Across (direction 1)",
        "explain:vae:x:info": "In standard deviations of real digits' codes along the first direction.",
        "explain:vae:y": "Up (direction 2)",
        "explain:vae:y:info": "In standard deviations along the second direction, at right angles to the first.",
        "explain:vae:morph_intro": "### From one digit into another\nTake a real digit A and a real digit B, walk in "
                                   "a straight line from A's code to B's, and let the digit given to the decoder "
                                   "slide from A to B at the same time.",
        "explain:vae:digit_a": "From digit",
        "explain:vae:digit_b": "To digit",
        "explain:vae:morph_seed:info": "Picks which real examples of the two digits are used.",
        "explain:vae:morph": "Morph",
        "explain:process:intro": "### The whole process as an animation\nThe diffusion model starts from static and "
                                 "removes a little predicted noise at each step. The autoregressive PixelCNN draws one "
                                 "pixel at a time, each chosen from the probabilities it gives every shade after "
                                 "seeing the pixels before it; its lower picture shows how likely each chosen shade "
                                 "was (dark: a surprising choice). **How it was drawn**, above, steps through the "
                                 "last generation. Here it becomes an animated GIF to keep or share: generate with "
                                 "the diffusion or the autoregressive model, then press the button.",
        "explain:process:export": "Animate the last generation",
        "explain:process:file": "Download the animation",
        "explain:training:intro": "### How each model learned\nEvery model here was trained from scratch by this "
                                  "project. The curves are its losses as training went on: lower is better, except "
                                  "for the GAN, whose two losses pull against each other and need not fall. The "
                                  "pictures are samples drawn from the same fixed noise at points during training: "
                                  "watch the digits take shape.",
        "explain:training:model": "Model",
        "explain:training:curves": "Losses during training",
        "explain:training:samples": "Samples saved during training",
        "explain:training:text_samples": "Text written during training",
    },
    "ko": {
        "explain:title": "작동 원리: 모델 계열별로 살펴보기",
        "explain:intro": "모델의 속을 들여다봅니다. GAN의 판별자가 숫자를 어떻게 평가하는지, VAE의 잠재 공간 지도, "
                         "그리는 과정 전체를 담은 애니메이션, 그리고 각 모델이 어떻게 학습했는지를 볼 수 있습니다.",
        "explain:tab:gan": "GAN: 판별자와 잠재 공간 산책",
        "explain:tab:vae": "VAE: 잠재 공간 지도",
        "explain:tab:process": "확산과 자기 회귀: 생성 과정",
        "explain:tab:training": "학습",
        "explain:seed": "시드",
        "explain:digit": "숫자",
        "explain:frames": "프레임 수",
        "explain:frames:info": "애니메이션이 처음부터 끝까지 몇 단계로 움직일지 정합니다.",
        "explain:animation": "애니메이션",
        "explain:strip": "중간 프레임들",
        "explain:gan:intro": "### 판별자의 판정\nGAN은 겨루기로 학습했습니다. **판별자** D는 진짜 숫자와 생성자가 "
                             "만든 가짜를 보고 둘을 구별하도록 학습했고, 생성자는 D를 속이도록 학습했습니다. 배포된 "
                             "체크포인트에는 D도 들어 있어서, 생성자가 그린 모든 숫자에 대해 D에게 물어볼 수 있습니다. "
                             "점수는 0(분명히 가짜)부터 1(분명히 그 숫자의 진짜 손글씨)까지입니다. D는 공정한 심판이 "
                             "아니라 학습 신호입니다. 학습이 끝날 무렵에는 겨루기가 균형을 이루므로 D가 확신하지 못하는 "
                             "경우가 많습니다.",
        "explain:gan:seed:info": "GAN 패널과 같은 시드와 설정을 쓰면 같은 숫자가 나옵니다.",
        "explain:gan:num_images": "이미지 수",
        "explain:gan:truncation": "절단(truncation)",
        "explain:gan:truncation:info": "GAN 패널에서처럼 생성자에 넣는 노이즈의 크기를 조절합니다.",
        "explain:gan:score": "판별자에게 묻기",
        "explain:gan:scored": "생성된 숫자와 D의 점수",
        "explain:gan:walk_intro": "### 잠재 공간 산책\n생성자는 무작위 수의 목록, 즉 잠재 공간의 한 점을 숫자 그림으로 "
                                  "바꿉니다. 시드마다 점이 하나씩 정해집니다. 그 시드로 GAN이 그리는 첫 번째 숫자의 "
                                  "점입니다. 산책은 시드 A의 점에서 시드 B의 점까지 호를 따라 움직이며 걸음마다 숫자를 "
                                  "그립니다. 가까운 점은 비슷한 숫자가 되므로 숫자가 부드럽게 바뀝니다. 프레임 아래의 "
                                  "수는 D의 점수입니다.",
        "explain:gan:seed_a": "시드 A",
        "explain:gan:seed_b": "시드 B",
        "explain:gan:walk": "A에서 B까지 걷기",
        "explain:vae:intro": "### 잠재 공간 지도\nVAE는 모든 숫자를 몇 개의 수(배포된 모델은 16개), 즉 잠재 코드로 "
                             "압축하고 코드에서 숫자를 다시 그립니다. 그만큼 많은 수는 종이에 그릴 수 없으므로, 이 "
                             "지도는 그 공간을 평평하게 자른 한 단면입니다. 주성분 분석으로 찾은, 실제 숫자들의 코드가 "
                             "가장 많이 달라지는 두 방향이 만드는 평면이며, 나머지 방향은 평균 코드에 고정됩니다. 각 "
                             "칸은 그 점에서 디코더가 그리는 그림이고, 점들은 인코더가 실제 숫자를 놓는 자리입니다. "
                             "숫자는 디코더에 따로 주어지므로 코드에는 필체(기울기, 굵기, 너비)만 담깁니다. 그래서 모든 "
                             "숫자의 점이 한 지도를 함께 씁니다. **지도를 클릭**하거나 슬라이더를 움직여 아무 점이나 "
                             "복원해 보세요.",
        "explain:vae:show": "실제 숫자 표시",
        "explain:vae:show:this": "이 숫자만",
        "explain:vae:show:all": "모든 숫자",
        "explain:vae:show:none": "표시 안 함",
        "explain:vae:draw": "지도 그리기",
        "explain:vae:map": "잠재 공간 지도: 점을 클릭해 복원하기",
        "explain:vae:legend": "점의 색(숫자별):",
        "explain:vae:decoded": "고른 점에서 복원한 그림",
        "explain:vae:x": "가로(방향 1)",
        "explain:vae:x:info": "첫 번째 방향을 따라 실제 숫자 코드의 표준편차 단위로 잰 위치입니다.",
        "explain:vae:y": "세로(방향 2)",
        "explain:vae:y:info": "첫 번째 방향과 직각인 두 번째 방향을 따라 표준편차 단위로 잰 위치입니다.",
        "explain:vae:morph_intro": "### 한 숫자에서 다른 숫자로\n실제 숫자 A와 실제 숫자 B를 골라, A의 코드에서 B의 "
                                   "코드까지 직선으로 걸어가면서 디코더에 주는 숫자도 A에서 B로 서서히 바꿉니다.",
        "explain:vae:digit_a": "시작 숫자",
        "explain:vae:digit_b": "끝 숫자",
        "explain:vae:morph_seed:info": "두 숫자의 실제 예시 중 어느 것을 쓸지 고릅니다.",
        "explain:vae:morph": "변신시키기",
        "explain:process:intro": "### 생성 과정 전체를 애니메이션으로\n확산 모델은 잡음에서 시작해 매 단계 예측한 "
                                 "노이즈를 조금씩 걷어 냅니다. 자기 회귀 PixelCNN은 한 번에 한 픽셀씩 그리는데, 앞의 "
                                 "픽셀을 보고 각 명암에 준 확률에서 하나를 고릅니다. 아래쪽 그림은 고른 명암의 확률을 "
                                 "보여 줍니다(어두울수록 뜻밖의 선택). 위의 **어떻게 그렸나**에서 마지막 생성을 단계별로 "
                                 "볼 수 있고, 여기서는 그것을 간직하거나 공유할 애니메이션 GIF로 만듭니다. 확산 모델이나 "
                                 "자기 회귀 모델로 생성한 다음 버튼을 누르세요.",
        "explain:process:export": "마지막 생성을 애니메이션으로 만들기",
        "explain:process:file": "애니메이션 내려받기",
        "explain:training:intro": "### 각 모델은 어떻게 배웠나\n여기 있는 모든 모델은 이 프로젝트가 처음부터 "
                                  "학습시켰습니다. 곡선은 학습이 진행되는 동안의 손실입니다. 낮을수록 좋지만, GAN의 두 "
                                  "손실은 서로 맞서므로 꼭 줄어들지는 않습니다. 그림은 학습 도중 같은 고정 노이즈로 그린 "
                                  "샘플입니다. 숫자가 모양을 갖춰 가는 모습을 보세요.",
        "explain:training:model": "모델",
        "explain:training:curves": "학습 중 손실",
        "explain:training:samples": "학습 중 저장한 샘플",
        "explain:training:text_samples": "학습 중 쓴 텍스트",
    },
}

MESSAGES = {
    "en": {
        "explain:gan:caption": "{digit} · D {score:.2f}",
        "explain:gan:summary": "D's score of these {n} digits: mean **{mean:.2f}** (lowest {low:.2f}, highest "
                               "{high:.2f}). For comparison, {real} and random static with the same labels: "
                               "**{noise:.2f}**.",
        "explain:gan:real": "real digits: **{score:.2f}** ({source}, which D also saw in training),",
        "explain:gan:no_real": "real digits: not known here ({source}),",
        "explain:gan:walk_note": "D's score along the walk of {n} frames: lowest {low:.2f} (frame {low_at}), highest "
                                 "{high:.2f} (frame {high_at}).",
        "explain:vae:where": "Decoded the point across {x:+.1f}, up {y:+.1f} as a **{digit}**. The map is fitted to "
                             "the codes of {source}: this plane holds {share:.0%} of how they vary, and the other "
                             "{rest} directions stay at their average.",
        "explain:vae:morph_note": "From a real {a} to a real {b} in {n} frames.",
        "explain:process:empty": "Nothing to animate yet: generate with the diffusion or the autoregressive model "
                                 "first. The GAN and the VAE draw in a single pass, with no steps to show.",
        "explain:process:done": "{n} frames, one per recorded step, from the first to the last.",
        "explain:training:caption_step": "step {step:,}",
        "explain:training:caption_epoch": "epoch {epoch} (about step {step:,})",
        "explain:training:caption_epoch_only": "epoch {epoch}",
        "explain:training:run": "Trained for {steps} steps ({epochs} passes over the data, batches of {batch}) in "
                                "{minutes} minutes on {threads} CPU thread(s).",
        "explain:training:final": "Final losses: {losses}.",
        "explain:training:kept": "The shipped weights are those of step {step}, where the held-out loss was lowest.",
        "explain:training:command": "Command: `{command}`",
        "explain:training:no_summary": "No training summary (training.json) for {name}.",
        "explain:training:missing": "No training log for {name}: {path} is missing.",
        "explain:training:unreadable": "The training log {path} could not be read.",
        "explain:training:empty": "The training log {path} holds no loss values.",
        "explain:training:skipped": "{n} line(s) of the log could not be read and were skipped.",
        "explain:training:unknown": "There is no training log for {name!r}: pick a model from the list.",
        "explain:training:no_samples": "No samples were saved during this model's training.",
        "explain:failed": "{what} failed: {error}",
    },
    "ko": {
        "explain:gan:caption": "{digit} · D {score:.2f}",
        "explain:gan:summary": "이 숫자 {n}개에 대한 D의 점수: 평균 **{mean:.2f}** (최저 {low:.2f}, 최고 {high:.2f}). "
                               "비교하자면 {real} 같은 숫자 이름표를 붙인 무작위 잡음은 **{noise:.2f}**입니다.",
        "explain:gan:real": "실제 숫자는 **{score:.2f}**({source}, D가 학습 중에도 본 숫자),",
        "explain:gan:no_real": "실제 숫자의 점수는 여기서 알 수 없음({source}),",
        "explain:gan:walk_note": "{n}개 프레임의 산책 동안 D의 점수: 최저 {low:.2f}(프레임 {low_at}), 최고 "
                                 "{high:.2f}(프레임 {high_at}).",
        "explain:vae:where": "가로 {x:+.1f}, 세로 {y:+.1f} 지점을 숫자 **{digit}**(으)로 복원했습니다. 지도는 {source}의 "
                             "코드에 맞춘 것으로, 이 평면에 코드 변화의 {share:.0%}가 담겨 있고 나머지 {rest}개 방향은 "
                             "평균에 고정됩니다.",
        "explain:vae:morph_note": "실제 숫자 {a}에서 실제 숫자 {b}까지 {n}개 프레임으로 바뀝니다.",
        "explain:process:empty": "아직 애니메이션으로 만들 것이 없습니다. 먼저 확산 모델이나 자기 회귀 모델로 생성하세요. "
                                 "GAN과 VAE는 한 번에 그리므로 보여 줄 단계가 없습니다.",
        "explain:process:done": "기록된 단계마다 한 장씩, 처음부터 끝까지 {n}개 프레임입니다.",
        "explain:training:caption_step": "{step:,}단계",
        "explain:training:caption_epoch": "{epoch}번째 에포크(약 {step:,}단계)",
        "explain:training:caption_epoch_only": "{epoch}번째 에포크",
        "explain:training:run": "{threads}개의 CPU 스레드로 {minutes}분 동안 {steps}단계 학습했습니다(데이터를 "
                                "{epochs}번 훑음, 배치 크기 {batch}).",
        "explain:training:final": "최종 손실: {losses}.",
        "explain:training:kept": "배포된 가중치는 검증 손실이 가장 낮았던 {step}단계의 것입니다.",
        "explain:training:command": "명령: `{command}`",
        "explain:training:no_summary": "{name}의 학습 요약(training.json)이 없습니다.",
        "explain:training:missing": "{name}의 학습 기록이 없습니다: {path} 파일이 없습니다.",
        "explain:training:unreadable": "학습 기록 {path}을(를) 읽을 수 없습니다.",
        "explain:training:empty": "학습 기록 {path}에 손실 값이 없습니다.",
        "explain:training:skipped": "기록 중 {n}줄을 읽을 수 없어 건너뛰었습니다.",
        "explain:training:unknown": "{name!r}의 학습 기록은 없습니다. 목록에서 모델을 고르세요.",
        "explain:training:no_samples": "이 모델은 학습 중에 샘플을 저장하지 않았습니다.",
        "explain:failed": "{what} 실패: {error}",
    },
}

i18n.register(STRINGS)
i18n.register_messages(MESSAGES)


def _t(key: str):
    """A page string: a key the browser translates."""
    return i18n.t(key)


def _msg(key: str, request: gr.Request | None = None, **values) -> str:
    """A handler's message, in the visitor's language."""
    return i18n.message(key, i18n.language_of(request), **values)


def _guarded(fn):
    """Errors meant for the user become one-line Gradio errors; anything else is logged and summarised."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # a bug or a fault: the operator gets the traceback, the visitor one line
            log.exception("explain view %s failed", fn.__name__)
            request = kwargs.get("request") or next((a for a in args if isinstance(a, gr.Request)), None)
            raise gr.Error(_msg("explain:failed", request, what=fn.__name__,
                                error=f"{type(e).__name__}: {str(e)[:200]}"), print_exception=False) from None

    return run


def _seed_box(label_key: str, value: int, info_key: str | None = None) -> gr.Number:
    return gr.Number(value=value, minimum=0, maximum=MAX_SEED, step=1, precision=0, label=_t(label_key),
                     info=_t(info_key) if info_key else None)


def _animation_row(elem_id: str) -> tuple:
    """An animated GIF beside its frames as a strip, with a note under the strip."""
    with gr.Row():
        animation = gr.Image(type="filepath", label=_t("explain:animation"), interactive=False, height=220,
                             elem_id=elem_id, elem_classes=["genai-process"])
        with gr.Column(scale=2):
            strip = gr.Image(type="pil", format="png", label=_t("explain:strip"), interactive=False,
                             elem_classes=["genai-process"])
            note = gr.Markdown()
    return animation, strip, note


def _frames_slider(value: int = 24) -> gr.Slider:
    return gr.Slider(2, 60, value=value, step=1, label=_t("explain:frames"), info=_t("explain:frames:info"))


def _animation(frames: list, captions: list[str] | None = None, bounce: bool = True) -> tuple:
    """An animated GIF of the frames (a file path) and a strip of up to 8 of them, captioned."""
    from genai_demo.explain import frames as fr

    gif = fr.save_gif([fr.upscale(f, GIF_SCALE) for f in frames], duration_ms=100, bounce=bounce)
    return str(gif), fr.frame_strip(frames, captions)


# -- GAN ----------------------------------------------------------------------------------------------------------

def score_view(adapter, seed, num_images, label, truncation, request: gr.Request = None) -> tuple:
    """Gallery of generated digits captioned with D's score, and a summary against real digits and static."""
    from genai_demo.explain import gan
    from genai_demo.explain.frames import upscale

    s = gan.score_generated(adapter, seed=seed, num_images=num_images, label=label, truncation=truncation)
    items = [(upscale(im, 4), _msg("explain:gan:caption", request, digit=d, score=p))
             for im, d, p in zip(s.images, s.labels, s.scores)]
    real = (_msg("explain:gan:real", request, score=s.real_score, source=s.real_source) if s.real_score is not None
            else _msg("explain:gan:no_real", request, source=s.real_source))
    summary = _msg("explain:gan:summary", request, n=len(s.scores), mean=sum(s.scores) / len(s.scores),
                   low=min(s.scores), high=max(s.scores), real=real, noise=s.noise_score)
    return items, summary


def walk_view(adapter, seed_a, seed_b, label, num_frames, request: gr.Request = None) -> tuple:
    """The latent walk as a GIF, a strip of frames with D's scores, and a one-line note."""
    from genai_demo.explain import gan

    w = gan.latent_walk(adapter, seed_a=seed_a, seed_b=seed_b, label=label, num_frames=num_frames)
    gif, strip = _animation(w.frames, [f"D {p:.2f}" for p in w.scores])
    low, high = min(range(len(w.scores)), key=w.scores.__getitem__), max(range(len(w.scores)), key=w.scores.__getitem__)
    note = _msg("explain:gan:walk_note", request, n=len(w.frames), low=w.scores[low], low_at=low + 1,
                high=w.scores[high], high_at=high + 1)
    return gif, strip, note


def gan_view(adapter) -> None:
    from genai_demo.explain.gan import SCORE_PARAMS
    from genai_demo.ui.blocks import concurrency

    gr.Markdown(_t("explain:gan:intro"))
    with gr.Row(equal_height=True):
        seed = _seed_box("explain:seed", 0, "explain:gan:seed:info")
        label = gr.Dropdown([(i18n.t("ui:choice:any"), c) if c == "any" else c for c in SCORE_PARAMS[2].choices],
                            value="any", label=_t("explain:digit"))
        num = gr.Slider(1, 32, value=8, step=1, label=_t("explain:gan:num_images"))
        truncation = gr.Slider(0, 2, value=1.0, step=0.05, label=_t("explain:gan:truncation"),
                               info=_t("explain:gan:truncation:info"))
    score_button = gr.Button(_t("explain:gan:score"), variant="primary")
    scored = gr.Gallery(label=_t("explain:gan:scored"), columns=8, height="auto", object_fit="contain", format="png",
                        elem_id="explain-gan-scores", elem_classes=["genai-gallery"], interactive=False)
    summary = gr.Markdown(elem_id="explain-gan-summary")
    gr.Markdown(_t("explain:gan:walk_intro"))
    with gr.Row(equal_height=True):
        seed_a = _seed_box("explain:gan:seed_a", 1)
        seed_b = _seed_box("explain:gan:seed_b", 2)
        walk_digit = gr.Dropdown(list(DIGITS), value="3", label=_t("explain:digit"))
        frames = _frames_slider()
    walk_button = gr.Button(_t("explain:gan:walk"), variant="primary")
    animation, strip, note = _animation_row("explain-gan-walk")

    @_guarded
    def ask_discriminator(seed, num_images, label, truncation, request: gr.Request):
        return score_view(adapter, seed, num_images, label, truncation, request)

    @_guarded
    def walk(seed_a, seed_b, label, num_frames, request: gr.Request):
        return walk_view(adapter, seed_a, seed_b, label, num_frames, request)

    settings = dict(api_visibility="private", **concurrency(adapter))
    score_button.click(ask_discriminator, [seed, num, label, truncation], [scored, summary], **settings)
    walk_button.click(walk, [seed_a, seed_b, walk_digit, frames], [animation, strip, note], **settings)


# -- VAE ----------------------------------------------------------------------------------------------------------

def _where(adapter, decoded, label, request) -> str:
    from genai_demo.explain import vae

    lmap = vae.latent_map(adapter)
    return _msg("explain:vae:where", request, x=decoded.x, y=decoded.y, digit=label, source=lmap.source,
                share=lmap.explained, rest=max(0, lmap.codes.shape[1] - 2))


def map_view(adapter, label, show, x, y, request: gr.Request = None) -> tuple:
    """The map with a ring at (x, y), the digit decoded there, and what the map is."""
    from genai_demo.explain import vae
    from genai_demo.explain.frames import upscale

    decoded = vae.decode_point(adapter, label=label, x=x, y=y)
    image = vae.render_map(adapter, label, show, marker=(decoded.x, decoded.y))
    return image, upscale(decoded.image, DECODED_SCALE), _where(adapter, decoded, label, request)


def map_click(adapter, label, show, index, request: gr.Request = None) -> tuple:
    """A click on the map (``index``: its pixel, as Gradio's select event gives it) decodes the point under it;
    the sliders move there too."""
    from genai_demo.explain import vae

    index = index if isinstance(index, (list, tuple)) and len(index) == 2 else (None, None)
    decoded = vae.decode_pixel(adapter, label, *index)
    image, big, where = map_view(adapter, label, show, decoded.x, decoded.y, request)
    return image, big, where, decoded.x, decoded.y


def morph_view(adapter, digit_a, digit_b, seed, num_frames, request: gr.Request = None) -> tuple:
    from genai_demo.explain import vae

    m = vae.morph(adapter, digit_a=digit_a, digit_b=digit_b, seed=seed, num_frames=num_frames)
    gif, strip = _animation(m.frames)
    return gif, strip, _msg("explain:vae:morph_note", request, a=digit_a, b=digit_b, n=len(m.frames))


def legend_html() -> str:
    from genai_demo.explain.vae import COLOURS

    dots = "".join(f'<span style="display:inline-block;margin-right:10px"><span style="display:inline-block;width:'
                   f'10px;height:10px;border-radius:50%;border:1px solid #000;background:{c}"></span> {d}</span>'
                   for d, c in enumerate(COLOURS))
    return f'<div class="genai-legend">{dots}</div>'


def vae_view(adapter, tab: gr.Tab) -> None:
    from genai_demo.explain import vae
    from genai_demo.ui.blocks import concurrency

    gr.Markdown(_t("explain:vae:intro"))
    with gr.Row(equal_height=True):
        digit = gr.Dropdown(list(DIGITS), value="3", label=_t("explain:digit"))
        show = gr.Radio([(_t(f"explain:vae:show:{key}"), value) for key, value in
                         zip(("all", "this", "none"), vae.SHOW_POINTS)], value="this digit",
                        label=_t("explain:vae:show"))
        draw_button = gr.Button(_t("explain:vae:draw"), variant="primary", scale=0, min_width=160)
    with gr.Row():
        with gr.Column(scale=3):
            the_map = gr.Image(type="pil", format="png", label=_t("explain:vae:map"), interactive=False,
                               elem_id="explain-vae-map", elem_classes=["genai-process"])
            gr.Markdown(_t("explain:vae:legend"))
            gr.HTML(legend_html())
        with gr.Column(scale=2):
            decoded = gr.Image(type="pil", format="png", label=_t("explain:vae:decoded"), interactive=False,
                               height=240, elem_id="explain-vae-decoded", elem_classes=["genai-process"])
            where = gr.Markdown(elem_id="explain-vae-where")
            x = gr.Slider(-vae.EXTENT, vae.EXTENT, value=0.0, step=0.1, label=_t("explain:vae:x"),
                          info=_t("explain:vae:x:info"))
            y = gr.Slider(-vae.EXTENT, vae.EXTENT, value=0.0, step=0.1, label=_t("explain:vae:y"),
                          info=_t("explain:vae:y:info"))
    gr.Markdown(_t("explain:vae:morph_intro"))
    with gr.Row(equal_height=True):
        digit_a = gr.Dropdown(list(DIGITS), value="1", label=_t("explain:vae:digit_a"))
        digit_b = gr.Dropdown(list(DIGITS), value="7", label=_t("explain:vae:digit_b"))
        morph_seed = _seed_box("explain:seed", 0, "explain:vae:morph_seed:info")
        frames = _frames_slider()
    morph_button = gr.Button(_t("explain:vae:morph"), variant="primary")
    animation, strip, note = _animation_row("explain-vae-morph")

    @_guarded
    def draw_map(label, show, x, y, request: gr.Request):
        return map_view(adapter, label, show, x, y, request)

    @_guarded
    def click_map(label, show, evt: gr.SelectData, request: gr.Request):
        return map_click(adapter, label, show, evt.index, request)

    @_guarded
    def make_morph(digit_a, digit_b, seed, num_frames, request: gr.Request):
        return morph_view(adapter, digit_a, digit_b, seed, num_frames, request)

    settings = dict(api_visibility="private", **concurrency(adapter))
    gr.on([draw_button.click, digit.change, show.change, x.release, y.release, tab.select], draw_map,
          [digit, show, x, y], [the_map, decoded, where], **settings)
    the_map.select(click_map, [digit, show], [the_map, decoded, where, x, y], **settings)
    morph_button.click(make_morph, [digit_a, digit_b, morph_seed, frames], [animation, strip, note], **settings)


# -- the generating process ---------------------------------------------------------------------------------------

def process_export(process: list | None, request: gr.Request = None) -> tuple:
    """The last generation's process frames (diffusion steps, PixelCNN rows) as an animated GIF to show and keep."""
    from genai_demo.explain.frames import out_dir, process_animation

    if not process:
        return None, None, _msg("explain:process:empty", request)
    import uuid

    path = process_animation(process, out_dir() / f"generation-process-{uuid.uuid4().hex[:8]}.gif")
    return str(path), str(path), _msg("explain:process:done", request, n=len(process))


def process_view(process: gr.State, prefix: str = "") -> None:
    gr.Markdown(_t("explain:process:intro"))
    button = gr.Button(_t("explain:process:export"), variant="primary")
    with gr.Row():
        preview = gr.Image(type="filepath", label=_t("explain:animation"), interactive=False, height=360,
                           elem_id=f"{prefix}explain-process-gif", elem_classes=["genai-process"])
        with gr.Column():
            download = gr.File(label=_t("explain:process:file"), interactive=False, elem_id=f"{prefix}explain-process-file")
            note = gr.Markdown()
    button.click(_guarded(process_export), process, [preview, download, note], api_visibility="private",
                 concurrency_limit=2)


# -- training -----------------------------------------------------------------------------------------------------

def _run_summary(folder, name: str, request) -> str:
    from genai_demo.explain.training import read_summary

    t = read_summary(folder)
    if not t:
        return _msg("explain:training:no_summary", request, name=name)
    lines = []
    if "steps" in t and "minutes" in t:
        lines.append(_msg("explain:training:run", request, steps=f"{t['steps']:,}", epochs=t.get("epochs", "?"),
                          batch=t.get("batch_size", "?"), minutes=f"{t['minutes']:.1f}", threads=t.get("threads", "?")))
    losses = {k: v for k, v in (t.get("final_losses") or {}).items() if isinstance(v, (int, float))}
    if losses:
        lines.append(_msg("explain:training:final", request,
                          losses=", ".join(f"{k} {v:.4g}" for k, v in losses.items())))
    if t.get("kept_step") and t.get("kept_step") != t.get("steps"):
        lines.append(_msg("explain:training:kept", request, step=f"{t['kept_step']:,}"))
    if t.get("command"):
        lines.append(_msg("explain:training:command", request, command=t["command"]))
    return " ".join(lines)


def training_data(weights_root, name: str | None, request: gr.Request = None, first: tuple[str, ...] = ()) -> tuple:
    """For one weights folder: the run's summary, its losses as a long table, its image samples, its text samples."""
    import pandas as pd

    from genai_demo.explain import training

    empty = pd.DataFrame({"step": [], "series": [], "value": []})
    names = training.logged_models(weights_root, first)
    if not names:
        return _msg("explain:training:missing", request, name="-", path="weights/"), empty, [], ""
    if name not in names:  # the value comes from the browser: only folders found here are read
        return _msg("explain:training:unknown", request, name=str(name)[:60]), empty, [], ""
    folder = Path(weights_root) / name
    path = folder / training.LOG_FILE
    loss_log = training.read_log(path)
    notes = [_run_summary(folder, training.model_id(name), request)]
    if loss_log.problem:
        # Named from the weights folder down: visitors see no server paths.
        notes.append(_msg(f"explain:training:{loss_log.problem}", request, name=training.model_id(name),
                          path=f"{name}/{training.LOG_FILE}"))
    elif loss_log.skipped:
        notes.append(_msg("explain:training:skipped", request, n=loss_log.skipped))
    table = pd.DataFrame(loss_log.rows) if loss_log.rows else empty
    images, texts = [], []
    for s in training.training_samples(folder):
        if s.epoch is not None:
            caption = _msg("explain:training:caption_epoch" if s.step is not None else
                           "explain:training:caption_epoch_only", request, epoch=s.epoch, step=s.step)
        else:
            caption = _msg("explain:training:caption_step", request, step=s.step)
        if s.kind == "image":
            images.append((str(s.path), caption))
        else:
            try:
                texts.append(f"── {caption} ──\n{s.path.read_text(encoding='utf-8', errors='replace')[:1500].strip()}")
            except OSError:
                continue
    if not images and not texts:
        notes.append(_msg("explain:training:no_samples", request))
    return "  \n".join(n for n in notes if n), table, images, "\n\n".join(texts)


def training_update(weights_root, name, request: gr.Request = None, first: tuple[str, ...] = ()) -> tuple:
    about, table, images, texts = training_data(weights_root, name, request, first)
    return (about, table, gr.Gallery(value=images, visible=bool(images)),
            gr.Textbox(value=texts, visible=bool(texts)))


def training_view(weights_root, tab: gr.Tab, first: tuple[str, ...] = (), prefix: str = "") -> None:
    """``first``: weights folders to list first (this tab's models, in the registry's order); ``prefix`` keeps the
    element ids of each tab's copy apart."""
    from genai_demo.explain import training

    names = training.logged_models(weights_root, first)
    gr.Markdown(_t("explain:training:intro"))
    picker = gr.Dropdown([(training.model_id(n), n) for n in names], value=names[0] if names else None,
                         label=_t("explain:training:model"), elem_id=f"{prefix}explain-training-model")
    about = gr.Markdown(elem_id=f"{prefix}explain-training-about")
    plot = gr.LinePlot(x="step", y="value", color="series", label=_t("explain:training:curves"),
                       x_title="step", y_title="loss", color_title="", elem_id=f"{prefix}explain-training-curves")
    samples = gr.Gallery(label=_t("explain:training:samples"), columns=5, height="auto", object_fit="contain",
                         format="png", interactive=False, elem_id=f"{prefix}explain-training-samples",
                         elem_classes=["genai-gallery"])
    texts = gr.Textbox(label=_t("explain:training:text_samples"), lines=14, max_lines=30, interactive=False,
                       visible=False, elem_id=f"{prefix}explain-training-text")

    @_guarded
    def show_training(name, request: gr.Request):
        return training_update(weights_root, name, request, first)

    gr.on([picker.change, tab.select], show_training, picker, [about, plot, samples, texts],
          api_visibility="private", queue=False)


# -- the section --------------------------------------------------------------------------------------------------

# The views a model can declare in ``ModelAdapter.explain_views``, by name; each is built with (adapter, its tab).
VIEWS = {"gan": lambda adapter, tab: gan_view(adapter), "vae": vae_view}


def explain_section(modality: str, models: list, process: gr.State | None = None) -> None:
    """The "How it works" accordion of a tab: the families present among ``models``, the process, and training.

    ``process`` is the tab's state holding the last generation's process frames (``Result.process``).
    """
    weights_root = models[0].weights_root if models else None
    prefix = "" if modality == "image" else f"{modality}-"  # the image tab's copy keeps the plain ids
    with gr.Accordion(_t("explain:title"), open=False, elem_id=f"{modality}-explain"):
        gr.Markdown(_t("explain:intro"))
        with gr.Tabs():
            for adapter in models:  # each model's own views, as it declares them (``explain_views``)
                for view in adapter.explain_views:
                    with gr.Tab(_t(f"explain:tab:{view}"), id=f"{modality}-explain-{view}") as tab:
                        VIEWS[view](adapter, tab)
            if process is not None:
                with gr.Tab(_t("explain:tab:process"), id=f"{modality}-explain-process"):
                    process_view(process, prefix)
            if weights_root is not None:
                with gr.Tab(_t("explain:tab:training"), id=f"{modality}-explain-training") as tab:
                    training_view(weights_root, tab, tuple(m.weights_dir.name for m in models), prefix)


__all__ = ["STRINGS", "MESSAGES", "explain_section"]
