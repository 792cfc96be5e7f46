"""The repository as something others host and install: a Hugging Face Space, a pip package, its licence and credits.

Offline: the Space's front matter is read with huggingface_hub's own card parser; the package is built with pip
(no build isolation, so nothing is downloaded) and run from a folder outside the repository.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, wait_for_http

TEN_MB = 10 * 1024 * 1024


def pins(*files: str) -> dict[str, str]:
    """``{normalised name: version}`` of the requirement lines in ``files`` (an extra like ``gradio[mcp]`` named)."""
    found = {}
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                package, _, version = line.partition("==")
                assert version, f"{name}: {line!r} is not pinned with =="
                found[normalise(package.split("[")[0])] = version
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- the Space ------------------------------------------------------------------------------------------------------

def test_the_readme_is_a_gradio_space_card():
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(ROOT / "README.md").data
    assert card.sdk == "gradio" and card.sdk_version == pins("requirements.txt")["gradio"]
    assert (ROOT / card.app_file).is_file() and card.app_file == "app.py"
    assert tuple(map(int, card.python_version.split("."))) >= (3, 11)  # numpy 2.4, diffusers and transformers
    assert card.license == "mit" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    extra = card.to_dict()
    assert extra["colorFrom"] in {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
    assert extra["colorTo"] in {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
    assert extra["title"] and extra["emoji"] and 0 < len(extra["short_description"]) <= 60
    # Every shipped model is named as a Hub model repo, and only those.
    shipped = {p.name for p in (ROOT / "weights").iterdir() if p.is_dir()}
    assert {m.split("/", 1)[1] for m in card.models} == shipped
    assert set(card.datasets) == {"ylecun/mnist", "karpathy/tiny_shakespeare"}
    assert {"education", "generative-ai"} <= set(card.tags)


def test_where_the_server_listens():
    from genai_demo.server import default_host, default_port, parse_args

    assert (default_host({}), default_port({})) == ("127.0.0.1", 7860)
    assert (default_host({"SPACE_ID": "x"}), default_port({"SPACE_ID": "x"})) == ("0.0.0.0", 7860)
    assert default_host({"GRADIO_SERVER_NAME": "::", "SPACE_ID": "x"}) == "::"
    assert default_host({"GENAI_HOST": "10.0.0.1", "GRADIO_SERVER_NAME": "::"}) == "10.0.0.1"
    assert default_port({"PORT": "8080"}) == 8080 and default_port({"GRADIO_SERVER_PORT": "7000", "PORT": "8080"}) == 7000
    assert default_port({"GENAI_PORT": "9000", "GRADIO_SERVER_PORT": "7000"}) == 9000
    with pytest.raises(SystemExit, match=r"\$PORT must be a port number"):
        default_port({"PORT": "http"})
    os.environ["SPACE_ID"] = "x"
    try:
        args = parse_args(["--host", "127.0.0.2", "--port", "1234"])  # the command line wins over the environment
        assert (args.host, args.port) == ("127.0.0.2", 1234)
        assert parse_args([]).host == "0.0.0.0"
    finally:
        del os.environ["SPACE_ID"]


def listening_address(port: int) -> str | None:
    """The local address a socket listens on at ``port``, from the kernel's own table (IPv4)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return ".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0))
    return None


def test_in_a_space_the_app_listens_on_every_interface():
    port = free_port()
    env = {**os.environ, "SPACE_ID": "someone/genai-playground", "GRADIO_SERVER_PORT": str(port)}
    env.pop("GENAI_HOST", None)
    env.pop("GENAI_PORT", None)
    proc = subprocess.Popen([sys.executable, "app.py", "--no-warmup", "--no-worker"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        assert listening_address(port) == "0.0.0.0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_tracked_file_is_too_big_for_a_space():
    """The Hub refuses files over 10 MB that Git LFS does not store, and this repository stores none with LFS."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = [ROOT / name for name in tracked.decode().split("\0") if name]
    assert len(files) > 100
    big = [(f.relative_to(ROOT), f.stat().st_size) for f in files if f.is_file() and f.stat().st_size > TEN_MB]
    assert not big
    assert not (ROOT / ".gitattributes").exists() or "lfs" not in (ROOT / ".gitattributes").read_text()


# -- the package ----------------------------------------------------------------------------------------------------

def third_party_imports(paths) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in ``paths`` (inside functions too), with the files importing them."""
    local = {"genai_demo", "tests", "bench", "app"}
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_package_the_code_imports_is_declared():
    sources = [ROOT / "app.py", ROOT / "setup.py", *sorted((ROOT / "genai_demo").rglob("*.py"))]
    imports = third_party_imports(sources)
    distributions = importlib.metadata.packages_distributions()
    app, train, mcp = pins("requirements.txt"), pins("requirements-train.txt"), pins("requirements-mcp.txt")
    undeclared = {}
    for module, files in imports.items():
        if module == "setuptools":  # the build backend, named in pyproject.toml's [build-system]
            continue
        names = {normalise(d) for d in distributions.get(module, [module])}
        if module == "music21":  # the training extra: parsing the Bach corpus, never on the app's path
            assert names <= set(train) and files == {"genai_demo/data/chorales.py"}, files
        elif module == "mcp":
            assert names <= set(mcp) | {"mcp"} and normalise("gradio") in mcp
        elif module == "ray":  # the extra "ray" (a lower bound, not a pin): only the Ray backend imports it
            assert files == {"genai_demo/serving_ray.py"}, files
            assert re.search(r"^ray\[serve\]>=\d", (ROOT / "requirements-ray.txt").read_text(), re.M)
        elif not names & set(app):
            undeclared[module] = files
    assert not undeclared, f"imported but not in requirements.txt: {undeclared}"
    assert "music21" not in app and "ray" not in app  # the app's own requirements stay lean
    assert {"torch", "gradio", "pandas", "diffusers", "transformers", "safetensors"} <= set(app)


def test_the_app_runs_without_the_training_extra():
    """Block music21 and every module that needs it, then serve each modality as the app does."""
    code = (
        "import sys; sys.modules['music21'] = None\n"
        "import app\n"
        "from genai_demo.registry import Registry\n"
        "r = Registry()\n"
        "assert r.get('audio/chorale').generate(seed=1, num_bars=2).audio is not None\n"
        "assert r.get('image/gan').generate(seed=1, num_images=2).images\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel_file,) = out.glob("genai_playground-*.whl")
    return wheel_file


def test_the_wheel_carries_the_weights_the_credits_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    shipped = [p.relative_to(ROOT).as_posix() for p in (ROOT / "weights").rglob("*") if p.is_file()]
    assert len(shipped) > 30 and {f"genai_demo/{name}" for name in shipped} <= names
    assert "genai_demo/docs/credits.md" in names and any(n.endswith("licenses/LICENSE") for n in names)
    assert {"genai_demo/locales/en.toml", "genai_demo/locales/ko.toml", "genai_demo/ui/static/page.css",
            "genai_demo/ui/static/page.js"} <= names  # the page's words, styles and script
    assert {"genai_demo/data/real_digits.png", "genai_demo/data/real_digits.json"} <= names  # the quiz's real digits
    assert "genai-demo = genai_demo.cli:main" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "__pycache__" in n]
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, re.M)
    app = {f"{normalise(k)}=={v}" for k, v in pins("requirements.txt").items()}
    assert {normalise(r.split("==")[0]) + "==" + r.split("==")[1] for r in requires if "extra ==" not in r} == app
    extras = {r.split('extra == "')[1].rstrip('"') for r in requires if "extra ==" in r}
    assert {"train", "mcp", "ray", "dev"} <= extras
    assert any(r.startswith("ray[serve]>=") and 'extra == "ray"' in r for r in requires)
    assert any(r.startswith("music21==") and 'extra == "train"' in r for r in requires)
    assert re.search(r"^Requires-Python: >=3\.11", meta, re.M) and re.search(r"^License-Expression: MIT", meta, re.M)


def test_the_installed_command_generates_from_any_folder(wheel, tmp_path):
    """Unpack the wheel outside the repository and run its console script there: the packaged weights are found."""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("GENAI_WEIGHTS_DIR", None)
    script = site / "bin" / "genai-demo"
    run = subprocess.run([sys.executable, str(script), "generate", "image/gan", "--seed", "1", "--num", "4",
                          "--out", "D"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(p.name for p in (elsewhere / "D").glob("image_*.png")) == [f"image_{i:03d}.png" for i in range(4)]
    # the package that ran is the unpacked one, with its own copy of the weights
    where = subprocess.run([sys.executable, "-c", "import genai_demo.contract as c; print(c.DEFAULT_WEIGHTS_ROOT)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(site / "genai_demo" / "weights")
    listed = subprocess.run([sys.executable, str(script), "list"], cwd=elsewhere, env=env, capture_output=True,
                            text=True, timeout=300)
    assert "UNAVAILABLE" not in listed.stdout and "text/shakespeare" in listed.stdout
    helped = subprocess.run([sys.executable, str(script), "serve", "--help"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0 and "genai-demo serve" in helped.stdout and "--host" in helped.stdout


def test_missing_weights_say_where_they_were_looked_for(tmp_path):
    from genai_demo.registry import Registry

    reason = Registry(tmp_path / "nowhere").get("image/gan").unavailable_reason()
    assert "no weights folder at" in reason and "GENAI_WEIGHTS_DIR" in reason and "train" in reason


def test_sharded_weights_load_and_a_broken_index_is_reported(tmp_path):
    import shutil

    from genai_demo.registry import Registry

    shipped = ROOT / "weights" / "text-shakespeare"
    assert (shipped / "model.safetensors.index.json").is_file() and not (shipped / "model.safetensors").exists()
    adapter = Registry().get("text/shakespeare")
    assert adapter.unavailable_reason() is None
    copy = tmp_path / "text-shakespeare"
    shutil.copytree(shipped, copy)
    shard = sorted(copy.glob("model-*.safetensors"))[-1]
    shard.unlink()
    reason = Registry(tmp_path).get("text/shakespeare").unavailable_reason()
    assert "weights not found" in reason and shard.name in reason
    (copy / "model.safetensors.index.json").write_text("{not json")
    reason = Registry(tmp_path).get("text/shakespeare").unavailable_reason()
    assert "are broken (model.safetensors.index.json" in reason


# -- licences and credits -------------------------------------------------------------------------------------------

def test_the_credits_name_every_data_set_and_its_licence():
    credits = (ROOT / "docs" / "credits.md").read_text()
    english, korean = credits.split("<!-- ko -->")
    for text in (english, korean):
        assert "MNIST" in text and "CC BY-SA 3.0" in text and "Tiny Shakespeare" in text and "music21" in text
        assert "ylecun/mnist" in text and "karpathy/tiny_shakespeare" in text and "LICENSE" in text
    assert re.search(r"[\uac00-\ud7a3]", korean) and not re.search(r"[\uac00-\ud7a3]", english)
