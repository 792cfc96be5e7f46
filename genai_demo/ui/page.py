"""The page: its tabs, built from the registry, and what a link, a dropped PNG, teacher mode and the language
switch change on it.

The page knows no model by name: each tab builder (``TAB_BUILDERS``) gets the registry's models of its modality
and returns what it made (``TabParts``); links and PNG drops reach every model's panel through that.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from genai_demo import compare, i18n, links
from genai_demo.judge import DigitJudge
from genai_demo.registry import MODALITIES, Registry
from genai_demo.serving import plan
from genai_demo.ui.audio_tab import audio_tab
from genai_demo.ui.common import gradio_i18n, md_escape, t
from genai_demo.ui.compare_tab import COMPARE_LINK, compare_section
from genai_demo.ui.image_tab import image_tab
from genai_demo.ui.lab_tab import lab_tab
from genai_demo.ui.quiz_tab import quiz_tab
from genai_demo.ui.sessions import lean_sessions
from genai_demo.ui.panel import TabParts, follower_look, seed_for
from genai_demo.ui.text_tab import text_tab

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
TAB_BUILDERS = {"image": image_tab, "text": text_tab, "audio": audio_tab}


class OpeningResult:
    """What a visitor sees without a click: the first tab's first model at its default settings, with the visitor's
    own first seed (``panel.seed_for``: each page load its own digits, as the seed box shows).

    Only a quick model qualifies (``serving.plan``): a GAN draws its 16 digits in about 50 ms. The last
    few results are kept, so a reload, or a class opening the page together on one link, draws each once.
    """

    KEEP = 64

    def __init__(self, tab: TabParts):
        self.tab = tab
        self.defaults = {p.name: p.default for p in tab.first.params}
        self._lock = threading.Lock()
        self._results: dict[int, object] = {}

    @staticmethod
    def qualifies(tab: TabParts | None) -> bool:
        return tab is not None and plan(tab.first).quick and tab.first.unavailable_reason() is None

    def wanted(self, state: links.LinkState) -> bool:
        """Whether a page opened at this link shows the tab's first model at its defaults (a plain visit does)."""
        first = self.tab.first
        return (state.tab in (None, first.modality) and state.model in (None, first.id)
                and (state.model is None or state.values == self.defaults))

    def result(self, seed: int):
        """The final result at the default settings and ``seed`` (None if the model failed)."""
        values = {**self.defaults, "seed": seed} if "seed" in self.defaults else self.defaults
        with self._lock:
            if seed not in self._results and self.tab.first.unavailable_reason() is None:
                try:
                    self._results[seed] = self.tab.first.generate(**values)
                except Exception as e:  # the page still opens; a click on Generate shows the error
                    log.warning("the opening result of %s failed: %s", self.tab.first.id, e)
                    return None
                while len(self._results) > self.KEEP:
                    self._results.pop(next(iter(self._results)))
            return self._results.get(seed)

    def values(self, state: links.LinkState, lang: str, seed: int) -> list:
        result = self.result(seed) if self.wanted(state) else None
        return list(self.tab.format(result, lang)) if result else [gr.skip() for _ in self.tab.outputs]


def png_section() -> tuple:
    """The drop zone for generated PNGs; returns its accordion (hidden in teacher mode) and its file input."""
    with gr.Accordion(t("ui:png"), open=False, elem_id="png-restore") as box:
        gr.Markdown(t("ui:png:intro"))
        # type="filepath": the upload as the visitor sent it (its text chunks intact); Gradio accepts only files
        # that were uploaded into its own cache here, so no server file can be named.
        drop = gr.File(label=t("ui:png:drop"), file_types=[".png"], file_count="single", type="filepath",
                       elem_id="png-drop")
    return box, drop


def control_update(p, state: links.LinkState, linked: bool, fresh_seed: int | None) -> dict:
    """One control of a model's panel or a linkable section: the link's value where the link names its model or
    section, else a fresh seed in a seed box; hidden in teacher mode when its parameter is advanced."""
    change = {}
    if linked:
        change["value"] = state.values[p.name]
    elif p.name == "seed" and fresh_seed is not None:
        change["value"] = fresh_seed
    if state.teacher and p.advanced:
        change["visible"] = False
    return gr.update(**change)


@dataclass
class PageState:
    """The components that a link, a dropped PNG or teacher mode change, and how to compute their updates."""

    registry: Registry
    tabs: gr.Tabs
    tab_ids: tuple
    notice: gr.Markdown
    pickers: dict
    panels: list
    teacher_hidden: list = field(default_factory=list)
    tab_items: dict = field(default_factory=dict)  # tab id -> gr.Tab
    compare_controls: list = field(default_factory=list)  # the compare section's controls (none without it)
    run_compare: object = None  # the compare section's event function (``/image_compare``), for tests
    opening: OpeningResult | None = None  # the result the page opens with, if its first model is quick
    sections: list = field(default_factory=list)  # panel.SectionParts: sections a link fills (draw, lab, quiz)

    @property
    def targets(self) -> dict:
        """What a link may name besides the models: the compare section, where the page has one."""
        own = {s.target.id: s.target for s in self.sections}
        return {COMPARE_LINK.id: COMPARE_LINK, **own} if self.compare_controls else own

    @property
    def outputs(self) -> list:
        return ([self.tabs, self.notice] + list(self.pickers.values()) + [pp.panel for pp in self.panels]
                + [c for pp in self.panels for c in pp.controls] + self.teacher_hidden + self.compare_controls
                + [c for s in self.sections for c in (*s.controls, *([s.box] if s.box is not None else []))])

    def tab_labels(self, lang: str) -> list:
        """The tabs' names in ``lang``. The frontend translates only the open tab's name when the language is switched
        at runtime, so the server names them all."""
        lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        return [gr.Tab(label=i18n.text(f"ui:tab:{tab_id}", lang)) for tab_id in self.tab_items]

    def tab_labels_for(self, request: gr.Request) -> list:
        return self.tab_labels(i18n.language_of(request))

    def updates(self, state: links.LinkState, notice: str, fresh_seed: int | None = None) -> dict:
        """What a link or a PNG changes, by component: the tab, the notice, the model shown, its settings, the other
        seed boxes (a page load's own seed) and, in teacher mode, what is hidden."""
        target = self.registry.get(state.model) if state.model in self.registry.models else None
        out = {c: gr.update() for c in self.outputs}
        if state.tab:
            out[self.tabs] = gr.Tabs(selected=state.tab)
        out[self.notice] = gr.update(value=md_escape(notice), visible=bool(notice))
        if target is not None and target.modality in self.pickers:
            out[self.pickers[target.modality]] = gr.update(value=target.id)
        for pp in self.panels:
            if target is not None and target.modality == pp.adapter.modality:
                out[pp.panel] = gr.update(visible=pp.adapter is target)
            for p, control in zip(pp.adapter.params, pp.controls):
                out[control] = control_update(p, state, target is pp.adapter, fresh_seed)
                if target is pp.adapter and p.follows is not None:  # its range and help follow the link's choice
                    out[control] = {**follower_look(pp.adapter.id, p, state.values[p.follows.on], False), **out[control]}
        for box in self.teacher_hidden:
            out[box] = gr.update(visible=False) if state.teacher else gr.update()
        comparing = state.model == COMPARE_LINK.id and bool(self.compare_controls)
        for p, control in zip(COMPARE_LINK.params, self.compare_controls):
            if comparing:
                out[control] = gr.update(value=state.values[p.name])
            elif p.name == "seed" and fresh_seed is not None:
                out[control] = gr.update(value=fresh_seed)
        for section in self.sections:  # "Draw a digit", the lab, the quiz: their link's settings, a fresh seed, teacher mode
            if section.box is not None:  # a section inside a tab is opened by its link
                out[section.box] = gr.update(open=True) if state.model == section.target.id else gr.update()
            for p, control in zip(section.target.params, section.controls):
                out[control] = control_update(p, state, state.model == section.target.id, fresh_seed)
        return out

    def from_link(self, request: gr.Request) -> dict:
        """On page load: the address's tab, model and settings (defaults and a notice where they are wrong), and
        every other seed box at the visitor's own first seed."""
        state, lang = self.link_state(request)
        return self.updates(state, links.notice(state, lang), seed_for(getattr(request, "session_hash", None)))

    def link_state(self, request: gr.Request) -> tuple[links.LinkState, str]:
        lang = i18n.language_of(request)
        query = {k: v for k, v in (request.query_params or {}).items() if not k.startswith("_") and k != "view"}
        return links.parse_link(query, self.registry, self.tab_ids, lang, self.targets), lang

    def opening_result(self, request: gr.Request) -> list:
        """On page load: the first model's result at its defaults, unless the address asks for something else."""
        return self.opening.values(*self.link_state(request), seed_for(getattr(request, "session_hash", None)))

    def from_png(self, path, lang) -> dict:
        """A dropped PNG: its model and settings, or one line saying why it cannot be used."""
        lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        if not path:
            return {c: gr.update() for c in self.outputs}
        try:
            with open(path, "rb") as f:
                data = f.read(links.MAX_PNG_BYTES + 1)
            record = links.read_png_record(data)
            state = links.settings_from_record(record, self.registry, lang)
            if state.problems:
                notice = i18n.message("png:restored_partly", lang, model=state.model, problems="; ".join(state.problems))
            else:
                notice = i18n.message("png:restored", lang, model=state.model, seed=state.values.get("seed"))
        except links.SettingsError as e:
            state, notice = links.LinkState(), e.message(lang)
        except Exception:  # whatever else a forged file manages to trigger: say so, keep the page as it is
            log.exception("a dropped PNG could not be read")
            state, notice = links.LinkState(), i18n.message("png:not_record", lang)
        return self.updates(state, notice)


def build_demo(registry: Registry | None = None, judge: DigitJudge | None = None) -> gr.Blocks:
    """The whole page, from the registry: one tab per modality that has models, and the About tab."""
    registry = registry or Registry()
    judge = judge or DigitJudge(next(iter(registry)).weights_root)
    lean_sessions()  # a visitor's session holds what the visitor changed, not a copy of these 597 blocks
    # delete_cache: every hour, Gradio removes the files it has served (images, audio, downloads) that are more
    # than an hour old, so a busy day does not fill the disk.
    with gr.Blocks(title="GenAI playground", delete_cache=(3600, 3600)) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(t("ui:title"))
            language = gr.Radio([(name, code) for code, name in i18n.LANGUAGE_NAMES.items()],
                                value=i18n.DEFAULT_LANGUAGE, label=t("ui:language"), elem_id="genai-lang",
                                scale=0, min_width=220)
        notice = gr.Markdown(visible=False, elem_id="genai-notice")
        tab_items, tabs_built, teacher_hidden, png_drop, compared = {}, {}, [], None, ([], None)
        with gr.Tabs() as tabs:
            for modality in MODALITIES:
                models = registry.by_modality(modality)
                if not models:
                    continue
                with gr.Tab(t(f"ui:tab:{modality}"), id=modality) as tab_items[modality]:
                    with gr.Accordion(t("ui:lesson"), open=True, elem_classes=["genai-lesson"]):
                        gr.Markdown(t(f"lesson:{modality}"))
                    tabs_built[modality] = TAB_BUILDERS[modality](models)
                    if modality == "image":
                        png_box, png_drop = png_section()
                        teacher_hidden.append(png_box)
                        if len(compare.compared(registry)) > 1:
                            compared = compare_section(registry, judge)
                    teacher_hidden.extend(tabs_built[modality].hidden)
            with gr.Tab(t("ui:tab:lab"), id="lab") as tab_items["lab"]:
                sections = [lab_tab()]
            with gr.Tab(t("ui:tab:quiz"), id="quiz") as tab_items["quiz"]:
                sections.append(quiz_tab(registry, judge))
            with gr.Tab(t("ui:tab:about"), id="about") as tab_items["about"]:
                gr.Markdown(t("about:body"))
                gr.Markdown(t("about:credits"))
        first_tab = next(iter(tabs_built.values()), None)  # the tab the page opens on
        opening = OpeningResult(first_tab) if OpeningResult.qualifies(first_tab) else None
        page = PageState(registry, tabs, tuple(tab_items), notice, {m: b.picker for m, b in tabs_built.items()},
                         [p for b in tabs_built.values() for p in b.panels], teacher_hidden, tab_items, *compared,
                         opening, [s for b in tabs_built.values() for s in b.linked] + [s for s in sections if s])
        demo.load(page.from_link, None, page.outputs, api_visibility="private", queue=False)
        if opening is not None:  # its own event, so that restoring a link never waits for it
            opening.tab.finish(demo.load(page.opening_result, None, opening.tab.outputs, api_visibility="private",
                                         queue=False))
        demo.load(None, None, language, js="() => genai.startLanguage()", api_visibility="private", queue=False)
        language.input(page.tab_labels, language, list(page.tab_items.values()),
                       js="(lang) => genai.switchLanguage(lang)", api_visibility="private", queue=False)
        # ?lang= may differ from the browser's language: name the tabs in the page's language.
        demo.load(page.tab_labels_for, None, list(page.tab_items.values()), api_visibility="private", queue=False)
        if png_drop is not None:
            png_drop.upload(page.from_png, [png_drop, language], page.outputs, api_visibility="private", queue=False)
    demo.genai_page = page  # for tests: the handlers behind links and PNG drops
    return demo


def launch_options() -> dict:
    """What ``demo.launch`` needs besides where to listen: both languages' tables, the page's CSS and JavaScript,
    and a theme with one system font family for every weight (Latin and Hangul alike, bold included)."""
    fonts = ["system-ui", "-apple-system", "Segoe UI", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic",
             "sans-serif"]
    theme = gr.themes.Default(font=fonts, font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])
    script = (STATIC / "page.js").read_text(encoding="utf-8")
    return dict(i18n=gradio_i18n(), css_paths=[STATIC / "page.css"], head=f"<script>{script}</script>", theme=theme)

