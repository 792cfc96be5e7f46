"""The "Real or generated?" tab: ten rounds of one real MNIST digit among three generated ones (``genai_demo.quiz``),
its lesson, the class's totals and a link.

Endpoints: ``/quiz_start`` (family, seed), ``/quiz_answer`` (round_number, choice) and ``/quiz_next``; a visitor's
quiz is kept by their session (the page's, or a gradio_client's). On the page a click on a digit answers the round
shown.
"""

from __future__ import annotations

import inspect

import gradio as gr

from genai_demo import compare, i18n, links, quiz
from genai_demo.contract import GenAIError
from genai_demo.serving import SHARED
from genai_demo.ui import errors
from genai_demo.ui.common import api_docstring, md_escape, split_request, t, with_request
from genai_demo.ui.panel import SectionParts, link_js, make_control, new_seed, seed_control


def gan_critic(registry):
    """The GAN's discriminator as the quiz's critic, or None if this server has no GAN."""
    gan = next((m for m in registry if m.family == "GAN" and m.compared and m.unavailable_reason() is None), None)
    if gan is None:
        return None

    def critic(images, digits):
        from genai_demo.explain.gan import d_scores

        return d_scores(gan.load(), images, [max(0, d) for d in digits])

    return critic


def _critic(score) -> str:
    return f"{score:.2f}" if score is not None else None


def family_name(model_id: str, registry, lang: str) -> str:
    family = registry.get(model_id).family
    return i18n.text(f"family:{family}", lang) if i18n.known(f"family:{family}") else family


def totals_line(registry, lang: str) -> str:
    counts = quiz.TOTALS.snapshot()
    if not counts:
        return i18n.message("quiz:totals:none", lang)
    lines = [i18n.message("quiz:totals:line", lang, family=family_name(m, registry, lang), answers=n, found=found,
                          share=found / n) for m, (n, found) in counts.items()]
    return i18n.message("quiz:totals", lang, lines="; ".join(lines))


def tiles_of(played: quiz.Round) -> list:
    from PIL import Image

    return [(tile.image.resize((112, 112), Image.NEAREST), str(i)) for i, tile in enumerate(played.tiles, 1)]


def quiz_tab(registry, judge) -> SectionParts | None:
    """The lesson, the family and seed, Start, the four digits, the verdict, Next and the class's totals."""
    models = [registry.get(m) for m in compare.compared(registry)]
    models = [m for m in models if m.unavailable_reason() is None] or models
    if not models:
        return None
    params = quiz.quiz_params(models)
    i18n.register_params(quiz.LINK_ID, params)
    target = links.LinkTarget(quiz.LINK_ID, "quiz", params)
    critic = gan_critic(registry)
    with gr.Accordion(t("ui:lesson"), open=True, elem_classes=["genai-lesson"]):
        gr.Markdown(t("lesson:quiz"))
    gr.Markdown(t("quiz:intro"))
    with gr.Row(equal_height=True):
        controls = []
        for p in params:
            if p.name == "seed":
                control, dice = seed_control(p, quiz.LINK_ID)
                dice.click(new_seed, None, control, api_visibility="private", queue=False)
            else:
                control = make_control(p, quiz.LINK_ID)
            controls.append(control)
        start = gr.Button(t("quiz:start"), variant="primary", scale=0, min_width=160, elem_id="quiz-start")
    round_line = gr.Markdown(elem_id="quiz-round")
    tiles = gr.Gallery(label=t("quiz:tiles"), columns=4, height="auto", object_fit="contain", format="png",
                       allow_preview=False, interactive=False, elem_id="quiz-tiles", elem_classes=["genai-gallery"])
    verdict = gr.Markdown(elem_id="quiz-verdict")
    following = gr.Button(t("quiz:next"), elem_id="quiz-next")
    totals = gr.Markdown(elem_id="quiz-totals")
    numbers = gr.JSON(visible=False)
    with gr.Row(equal_height=True):
        link = gr.Textbox(label=t("ui:link"), info=t("quiz:link:info"), interactive=False, max_lines=2, scale=4,
                          elem_classes=["genai-link"])
        copy = gr.Button(t("ui:copy_link"), scale=0, min_width=120)

    def key(request) -> str:
        return getattr(request, "session_hash", None) or "anonymous"

    def refuse(error: Exception, request, lang: str, n: int, at: int) -> tuple:
        """One line where the verdict goes, output ``at`` of ``n``, nothing else changed (the page); or an error (the
        API)."""
        if not errors.from_browser(request):
            raise gr.Error(str(error), print_exception=False)
        line = error.message(lang) if hasattr(error, "message") else errors.for_page(error, lang)
        return tuple(f"\u26a0\ufe0f {md_escape(line)}" if i == at else gr.skip() for i in range(n))

    def round_text(q: quiz.Quiz, lang: str) -> str:
        return i18n.message("quiz:round", lang, round=q.shown, rounds=quiz.ROUNDS,
                            family=family_name(q.family, registry, lang))

    def state(q: quiz.Quiz, **more) -> dict:
        return {"family": q.family, "seed": q.seed, "round": q.shown, "rounds": quiz.ROUNDS, "score": q.score,
                "answered": q.answered, **more}

    def quiz_start(*args, request=None):
        values, lang, request = split_request(args, len(params), request)
        try:
            valid = {p.name: p.validate(v) for p, v in zip(params, values)}
            # First say what is happening: the diffusion and autoregressive families take a while to draw 30 digits.
            yield (i18n.message("quiz:drawing", lang, family=family_name(valid["family"], registry, lang)), [], "",
                   gr.skip(), gr.skip())
            q = quiz.make_quiz(registry.get(valid["family"]), valid["seed"], judge=judge, critic=critic,
                               generate=SHARED.generate)
        except GenAIError as e:
            yield refuse(e, request, lang, 5, 2)
            return
        quiz.BOOK.put(key(request), q)
        yield round_text(q, lang), tiles_of(q.current), "", totals_line(registry, lang), state(q)

    def answered(q: quiz.Quiz, outcome: quiz.Outcome, lang: str) -> str:
        family = family_name(q.family, registry, lang)
        if outcome.right:
            lines = [i18n.message("quiz:right", lang, real=outcome.real_choice, score=outcome.score,
                                  answered=outcome.answered)]
        else:
            no_critic = i18n.message("quiz:no_critic", lang)
            lines = [i18n.message("quiz:wrong", lang, choice=outcome.choice, family=family, real=outcome.real_choice,
                                  score=outcome.score, answered=outcome.answered),
                     i18n.message("quiz:giveaway", lang, choice=outcome.choice, fake_digit=outcome.picked.digit,
                                  fake_confidence=outcome.picked.confidence, real_digit=outcome.real.digit,
                                  real_confidence=outcome.real.confidence,
                                  fake_critic=_critic(outcome.picked.critic) or no_critic,
                                  real_critic=_critic(outcome.real.critic) or no_critic)]
        if outcome.answered == quiz.ROUNDS:
            lines.append(i18n.message("quiz:done", lang, score=outcome.score, rounds=quiz.ROUNDS))
            missed = [str(r.number) for r in q.misses()]
            if missed:
                lines.append(i18n.message("quiz:missed_rounds", lang, rounds=", ".join(missed)))
        return "\n\n".join(lines)

    def answer(round_number, choice, request, lang):
        try:
            q = quiz.BOOK.get(key(request))
            outcome = q.answer(round_number, choice)
        except GenAIError as e:
            return refuse(e, request, lang, 3, 0)
        more = {"right": outcome.right, "real_choice": outcome.real_choice, "choice": outcome.choice,
                "classifier": {"picked": outcome.picked.confidence, "real": outcome.real.confidence},
                "critic": {"picked": outcome.picked.critic, "real": outcome.real.critic}}
        return answered(q, outcome, lang), totals_line(registry, lang), state(q, **more)

    def quiz_answer(round_number: int, choice: int, request: gr.Request = None) -> dict:
        """Answer one round of your quiz: which of its four digits (1 to 4) is the real one. Each round counts once.

        Args:
            round_number: The round, 1 to 10 (only rounds already shown).
            choice: The digit you think is real, 1 to 4, left to right.

        Returns:
            The verdict (with what gave a miss away), the class's totals, and the numbers.
        """
        line, class_totals, numbers = answer(round_number, choice, request, i18n.language_of(request))
        return {"verdict": line, "totals": class_totals, **numbers}

    def quiz_pick(evt: gr.SelectData, request: gr.Request = None):
        """A click on a digit answers the round shown."""
        lang = i18n.language_of(request)
        try:
            shown = quiz.BOOK.get(key(request)).shown
        except GenAIError as e:
            return refuse(e, request, lang, 3, 0)
        return answer(shown, (evt.index if isinstance(evt.index, int) else 0) + 1, request, lang)

    def quiz_next(request: gr.Request = None):
        """Show the next round of your quiz once this one is answered.

        Returns:
            The round's line, its four digits, an empty verdict and the numbers.
        """
        lang = i18n.language_of(request)
        try:
            q = quiz.BOOK.get(key(request))
            played = q.next_round()
        except GenAIError as e:
            return refuse(e, request, lang, 4, 2)
        if played is None:
            return gr.skip(), gr.skip(), answered_summary(q, lang), state(q)
        return round_text(q, lang), tiles_of(played), "", state(q)

    def answered_summary(q: quiz.Quiz, lang: str) -> str:
        return i18n.message("quiz:done", lang, score=q.score, rounds=quiz.ROUNDS)

    title, _, description = inspect.cleandoc(quiz.__doc__).partition("\n\n")
    quiz_start.__doc__ = api_docstring("Real or generated? Start a quiz", title, params,
                                       "The first round's line, its four digits, the verdict (empty), the class's "
                                       "totals and the numbers.")
    with_request(quiz_start, params)
    heavy = dict(concurrency_limit=2, concurrency_id="quiz")
    # Callable by name (gradio_client), but not listed in the API page or as MCP tools, which describe the models.
    start.click(quiz_start, controls, [round_line, tiles, verdict, totals, numbers], api_name="quiz_start",
                preprocess=False, api_visibility="undocumented", **heavy)
    start.click(None, controls, None, js=link_js(target, copy=False), api_visibility="private", queue=False)
    tiles.select(quiz_pick, None, [verdict, totals, numbers], api_visibility="private", queue=False)
    gr.api(quiz_answer, api_name="quiz_answer", queue=False, api_visibility="undocumented")
    following.click(quiz_next, None, [round_line, tiles, verdict, numbers], api_name="quiz_next", queue=False,
                    api_visibility="undocumented")
    copy.click(None, controls, link, js=link_js(target, copy=True), api_visibility="private", queue=False)
    return SectionParts(target, controls)
