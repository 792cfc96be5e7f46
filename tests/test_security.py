"""Security: safe weight loading only, no remote code, and nothing on disk reachable through the app."""

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client

from tests.conftest import ROOT

WORKER = ROOT / "genai_demo" / "worker.py"
SOURCES = [p for p in [ROOT / "app.py", *sorted((ROOT / "genai_demo").rglob("*.py"))]]


def test_no_unsafe_loading_anywhere_in_the_code():
    for path in SOURCES:
        text = path.read_text()
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, f"{path}: {call}"
        if path == WORKER:
            # The one exception: the app and its own worker process exchange pickled messages, over a socket pair
            # that only those two processes hold (no listening socket, no file), never data from a visitor or disk.
            assert "socket.socketpair()" in text and "Listener" not in text and "bind(" not in text
            assert not re.search(r"pickle\.loads?\(|import pickle", text)
        else:
            assert "pickle" not in text, path
        assert not re.search(r"trust_remote_code\s*=\s*True", text), path
        for call in re.findall(r"DiffusionPipeline\.from_pretrained\((?:[^()]|\([^)]*\))*\)", text, re.S):
            assert "use_safetensors=True" in call, f"{path}: {call}"


def test_shipped_weights_are_safetensors_only():
    weights = ROOT / "weights"
    files = [p for p in weights.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert p.suffix in (".safetensors", ".json", ".jsonl", ".md", ".png", ".txt", ".model", ".vocab"), p


@pytest.mark.parametrize("path", [
    "/etc/passwd", "../../../../etc/passwd", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "app.py",
    str(ROOT / "app.py"), str(ROOT / "weights" / "image-gan" / "config.json"), "/proc/self/environ",
])
def test_files_outside_what_the_app_made_cannot_be_read(app_url, path):
    for prefix in ("gradio_api/file=", "file=", "gradio_api/file/"):
        try:
            with urllib.request.urlopen(app_url + prefix + path, timeout=10) as r:
                body = r.read()
            status = r.status
        except urllib.error.HTTPError as e:
            status, body = e.code, b""
        leaked = b"root:" in body or b"import argparse" in body or b"latent_dim" in body or b"PATH=" in body
        assert not leaked, (prefix + path, status)


def caller_uploads(endpoint: str, parameter: str) -> bool:
    """The files a caller may upload (never a path on the server: below): a picture of a digit for "Draw a digit"
    and a small MIDI file for the melody to harmonise."""
    return (endpoint.startswith("/draw_") and parameter == "image") or (endpoint, parameter) == (
        "/audio_melody_from_midi", "midi")


def test_no_endpoint_takes_a_file_a_path_or_a_model_name(app_url):
    endpoints = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name, endpoint in endpoints.items():
        for p in endpoint["parameters"]:
            assert p["parameter_name"] not in ("model", "model_id", "path", "file", "repo_id", "pipeline"), name
            if not caller_uploads(name, p["parameter_name"]):
                assert p["component"] not in ("File", "Uploadbutton", "Image", "Audio", "Video"), name


@pytest.mark.parametrize("endpoint", ["draw_read", "audio_melody_from_midi"])
def test_an_upload_endpoint_never_reads_a_file_on_the_server(app_url, endpoint):
    import httpx

    with httpx.Client(base_url=app_url, timeout=60) as http:
        picture = next((ROOT / "weights" / "image-gan" / "samples").glob("*.png"))  # a file, but the server's
        for path in ("/etc/passwd", str(picture)):
            sent = http.post(f"gradio_api/call/{endpoint}",
                             json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]})
            assert sent.status_code == 200, sent.text
            event = sent.json()["event_id"]
            answer = http.get(f"gradio_api/call/{endpoint}/{event}").text
            assert "event: error" in answer and "root:" not in answer and "classifier reads" not in answer, answer


def test_an_upload_over_the_size_limit_is_refused_in_one_line_and_the_app_keeps_serving(app_url):
    import json

    import httpx

    from genai_demo.server import MAX_FILE_SIZE

    limit = 10 * 1024 * 1024
    assert MAX_FILE_SIZE == "10mb"
    with urllib.request.urlopen(f"{app_url}config", timeout=30) as r:
        assert json.loads(r.read())["max_file_size"] == limit  # the page refuses a bigger file before sending it
    with httpx.Client(base_url=app_url, timeout=60) as http:
        big = http.post("gradio_api/upload", files={"files": ("big.png", b"\0" * (limit + 1), "image/png")})
        assert big.status_code == 413
        assert big.text == f"File size exceeded maximum allowed size of {limit} bytes."
        small = http.post("gradio_api/upload", files={"files": ("small.png", b"\0" * 1000, "image/png")})
        assert small.status_code == 200 and small.json()[0].endswith("small.png")
    gallery, _ = Client(app_url, verbose=False).predict(seed=1, num_images=1, api_name="/image_gan")
    assert len(gallery) == 1


def test_a_generated_image_can_be_fetched_but_only_through_its_own_url(app_url):
    client = Client(app_url, verbose=False, download_files=False)
    gallery, _ = client.predict(seed=0, num_images=1, label="1", truncation=1.0, api_name="/image_gan")
    url = gallery[0]["image"]["url"]
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read(8) == b"\x89PNG\r\n\x1a\n"
    # The served file is a copy in Gradio's cache, named after the model and seed, not a path the visitor chose.
    assert re.fullmatch(r"image-gan-seed0-\d+-[0-9a-f]+\.png", Path(gallery[0]["image"]["path"]).name)


def test_files_for_visitors_go_to_a_private_folder_per_process_and_old_ones_are_pruned(tmp_path):
    import os
    import stat
    import time as clock

    from genai_demo.export import prune, scratch_dir

    folder = scratch_dir("test")
    assert folder == scratch_dir("test") and folder.name.startswith("genai_demo_test_")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # made by mkdtemp: nobody else can plant files in it
    old, new = tmp_path / "a" / "old.wav", tmp_path / "new.png"
    old.parent.mkdir()
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    an_hour_ago = clock.time() - 3700
    os.utime(old, (an_hour_ago, an_hour_ago))
    prune(tmp_path, 3600)
    assert not old.exists() and not old.parent.exists() and new.exists()
