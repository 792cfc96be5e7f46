"""Adding a model is new files plus one registry line: a throwaway model, registered at run time, appears everywhere.

The model below stands for the files a contributor writes (docs/adding-a-model.md): an adapter that declares its
words in English and Korean, its parameters and its presets. The test adds it to the registry's list, as the one
line would, and finds it in ``list --json``, on the page in both languages, in the API, in a share link's round trip
and in a PNG's restore, with no edit anywhere else.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from types import SimpleNamespace
from urllib.parse import parse_qsl
from urllib.request import urlopen

import pytest

from genai_demo import registry as registry_module
from genai_demo.adapters.digits import DigitAdapter, digit_params
from genai_demo.contract import Param, Preset
from tests.conftest import free_port


class StripesAdapter(DigitAdapter):
    """A throwaway 'model' with no weights: each digit d is drawn as d + 1 noisy stripes."""

    id = "image/stripes"
    family = "stripes"
    title = "Stripes: a test model that draws each digit as stripes"
    description = "Not a generative model at all: it draws d + 1 stripes for digit d, with a little noise."
    translations = {"ko": {"title": "줄무늬: 숫자를 줄무늬로 그리는 시험용 모델",
                           "description": "생성 모델이 아닙니다. 숫자 d를 d + 1개의 줄무늬로 그리고 노이즈를 조금 섞습니다.",
                           "family": "줄무늬"}}
    weights_files = ()
    params = digit_params() + (
        Param("noise", "slider", 0.2, "How much noise to add to the stripes.", label="Noise", minimum=0.0,
              maximum=1.0, step=0.1, translations={"ko": ("노이즈", "줄무늬에 섞을 노이즈의 양입니다.")}),
    )
    presets = (Preset("clean", {"noise": 0.0}, {"en": ("Clean: no noise", "plain stripes."),
                                                "ko": ("깨끗함: 노이즈 없음", "줄무늬만 나옵니다.")}),)

    def _load(self, weights_dir):
        import torch

        return torch.nn.Linear(1, 1)  # stands in for a network: it has parameters to count

    def _sample(self, model, labels, generator, *, noise: float):
        import torch

        images = torch.zeros(len(labels), 1, 28, 28)
        for i, d in enumerate(labels.tolist()):
            for stripe in range(d + 1):
                images[i, 0, 2 + 2 * stripe: 3 + 2 * stripe, 4:24] = 1.0
        return (images + noise * torch.rand(images.shape, generator=generator)).clamp(0, 1)


@pytest.fixture
def with_stripes(monkeypatch):
    """The one registry line: the new adapter appended to ``ADAPTERS``."""
    monkeypatch.setattr(registry_module, "ADAPTERS", registry_module.ADAPTERS + (StripesAdapter,))
    return registry_module.Registry()


def test_it_is_listed_by_the_command_line(with_stripes):
    from genai_demo.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["list", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(out.getvalue())}
    assert listed["image/stripes"]["available"] is True
    assert [p["name"] for p in listed["image/stripes"]["params"]] == ["seed", "num_images", "label", "noise"]


def test_it_is_on_the_page_in_both_languages_in_the_api_a_link_and_a_png(with_stripes):
    from gradio_client import Client

    from genai_demo import i18n, links
    from genai_demo.ui.image_tab import image_outputs
    from genai_demo.ui.page import build_demo, launch_options

    demo = build_demo(with_stripes)
    page = demo.genai_page
    assert "image/stripes" in [pp.adapter.id for pp in page.panels]
    for lang, title, preset in (("en", "Stripes: a test model", "Clean: no noise"),
                                ("ko", "줄무늬: 숫자를 줄무늬로", "깨끗함: 노이즈 없음")):
        assert i18n.text("image/stripes:title", lang).startswith(title)
        assert i18n.text("image/stripes:noise:label", lang) == ("Noise" if lang == "en" else "노이즈")
        assert i18n.text("image/stripes:preset:clean:name", lang) == preset
    assert i18n.text("image/stripes:choice", "ko") == "줄무늬: image/stripes"

    # The API: the launched page serves /image_stripes with the model's own parameter names.
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options())
    try:
        config = urlopen(f"http://127.0.0.1:{port}/config", timeout=30).read().decode()
        assert "image/stripes:title" in config and "줄무늬: 숫자를 줄무늬로" in config
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, ssl_verify=False)
        gallery, info = client.predict(seed=5, num_images=3, label="2", noise=0.3, api_name="/image_stripes")
        assert len(gallery) == 3 and "image/stripes" in info and "seed 5" in info
    finally:
        demo.close()

    # A share link restores every setting and reproduces the output.
    adapter = with_stripes.get("image/stripes")
    values = {"seed": 77, "num_images": 2, "label": "4", "noise": 0.5}
    query = dict(parse_qsl(links.build_query("image/stripes", values)))
    updates = page.from_link(SimpleNamespace(query_params=query, headers={"accept-language": "ko-KR"}))
    panel = next(pp for pp in page.panels if pp.adapter.id == "image/stripes")
    restored = {p.name: updates[c]["value"] for p, c in zip(adapter.params, panel.controls)}
    assert restored == values
    first = [im.tobytes() for im in adapter.generate(**values).images]
    assert [im.tobytes() for im in adapter.generate(**restored).images] == first

    # A PNG it made restores its settings when dropped on the page.
    files, _, _ = image_outputs(adapter.generate(**values))
    updates = page.from_png(files[0][0], "en")
    panel_values = {p.name: updates[c]["value"] for p, c in zip(adapter.params, panel.controls)}
    assert panel_values == values
