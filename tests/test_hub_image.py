"""Hugging Face diffusers pipelines named by the operator: a tiny local pipeline, and a hub id while offline."""

import os
import subprocess
import sys
import time

import pytest
from gradio_client import Client

from genai_demo.contract import ModelUnavailable
from genai_demo.registry import Registry
from tests.conftest import ROOT, free_port, wait_for_http
from tests.test_security import caller_uploads


def test_a_local_pipeline_runs_seeded(tiny_pipeline):
    hub = Registry(image_pipeline=str(tiny_pipeline)).get("image/hf")
    assert hub.task == "unconditional" and [p.name for p in hub.params] == ["seed", "num_images", "num_inference_steps"]
    assert hub.unavailable_reason() is None
    a = hub.generate(seed=5, num_images=2, num_inference_steps=2)
    b = hub.generate(seed=5, num_images=2, num_inference_steps=2)
    assert len(a.images) == 2 and a.images[0].size == (8, 8) and a.images[0].mode == "RGB"
    assert [im.tobytes() for im in a.images] == [im.tobytes() for im in b.images]
    assert a.info["weights_version"] == tiny_pipeline.name and a.info["parameters"] > 1000


def test_a_hub_id_offline_fails_fast_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = Registry(image_pipeline="someone/not-cached-pipeline").get("image/hf")
    assert hub.task == "text-to-image" and hub.params[0].name == "prompt"
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable, match="not in the local Hugging Face cache and the hub is offline"):
        hub.generate(prompt="a cat")
    assert time.perf_counter() - started < 5


def test_a_folder_that_is_not_a_pipeline_is_unavailable(tmp_path):
    hub = Registry(image_pipeline=str(tmp_path), image_pipeline_task="unconditional").get("image/hf")
    assert "not a diffusers pipeline folder" in hub.unavailable_reason()


def test_no_pipeline_unless_the_operator_names_one(monkeypatch):
    monkeypatch.delenv("GENAI_IMAGE_PIPELINE", raising=False)
    assert "image/hf" not in Registry().models


def test_the_app_serves_the_operators_pipeline_and_visitors_cannot_name_another(tiny_pipeline):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-warmup", "--image-pipeline",
                             str(tiny_pipeline)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert [p["parameter_name"] for p in endpoints["/image_hf"]["parameters"]] == \
            ["seed", "num_images", "num_inference_steps"]
        gallery, info = client.predict(seed=1, num_images=2, num_inference_steps=2, api_name="/image_hf")
        assert len(gallery) == 2 and info.startswith("**image/hf** · seed 1")
        # No endpoint takes a model id, a path or a file: the operator's choice is fixed at launch.
        for name, endpoint in endpoints.items():
            for p in endpoint["parameters"]:
                assert p["parameter_name"] not in ("model", "model_id", "path", "file", "repo_id", "pipeline"), name
                if not caller_uploads(name, p["parameter_name"]):  # a digit's picture, a melody's MIDI file
                    assert p["component"] not in ("File", "Uploadbutton"), name
    finally:
        proc.terminate()
        proc.wait(10)
