"""Publish the playground on the Hugging Face Hub: each weights folder as a model repo, the app as a Gradio Space.

``python -m genai_demo publish --dry-run DIR`` writes exactly what would be pushed: ``DIR/models/<repo>/`` for
every folder under ``weights/`` (its config, safetensors, model card, logs, samples) and ``DIR/space/``, what a
Gradio Space runs: ``app.py``, the ``genai_demo`` package, ``requirements.txt``, the README (whose front matter
configures the Space), the licence and credits, and ``weights/`` so the Space needs no download at start-up.
Without ``--dry-run`` the same folders are staged in a temporary folder and uploaded with huggingface_hub, each
replacing its repo's files in one commit.

A file over 10 MB stops everything before a byte is written or sent: the Hub takes such files only through Git
LFS, so the weights are saved in shards below that size instead (``max_shard_size`` in the trainers).
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from genai_demo.contract import DEFAULT_WEIGHTS_ROOT, GenAIError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_FILE_BYTES = 10 * 1024 * 1024  # the Hub's "10 MB": larger files need Git LFS
SPACE_NAME = "genai-playground"  # each model repo is named as its weights folder (image-gan), as the README lists them
# The Space's files beside the package and the weights; the optional ones are published when present.
SPACE_FILES = ("app.py", "requirements.txt", "README.md")
OPTIONAL_SPACE_FILES = ("LICENSE", "docs/credits.md")
SKIPPED_SUFFIXES = (".pyc", ".pyo")


class PublishError(GenAIError):
    """Nothing can be published as asked; the message says why in one line."""


@dataclass
class Repo:
    """One Hub repository: its name, its type, and its files (path in the repo -> file on this machine)."""

    name: str
    repo_type: str  # "model" or "space"
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """Where the dry run writes it, under DIR."""
        return f"models/{self.name}" if self.repo_type == "model" else "space"

    def add_tree(self, source: Path, prefix: str) -> None:
        """Every file under ``source`` as ``prefix/...``, without caches, compiled files or hidden files."""
        for path in sorted(source.rglob("*")):
            parts = path.relative_to(source).parts
            if path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES) and not any(
                    p.startswith(".") or p == "__pycache__" or p.endswith(".egg-info") for p in parts):
                self.files["/".join(filter(None, [prefix, *parts]))] = path

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files.values())


def plan(weights_dir: Path | None = None, root: Path = PROJECT_ROOT) -> list[Repo]:
    """The repositories to publish and their files; raises ``PublishError`` if one is missing or too large."""
    weights_dir = Path(weights_dir or DEFAULT_WEIGHTS_ROOT)
    folders = sorted(p for p in weights_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if weights_dir.is_dir() else []
    if not folders:
        raise PublishError(f"no weights folders in {weights_dir}: train the models first")
    repos = []
    for folder in folders:
        if not (folder / "README.md").is_file():
            raise PublishError(f"{folder} has no model card (README.md): retrain it or rerun its benchmark")
        repo = Repo(folder.name, "model")
        repo.add_tree(folder, "")
        repos.append(repo)
    space = Repo(SPACE_NAME, "space")
    for name in SPACE_FILES + OPTIONAL_SPACE_FILES:
        if (root / name).is_file():
            space.files[name] = root / name
        elif name in SPACE_FILES:
            raise PublishError(f"{root / name} is missing: publish runs from a checkout of the project")
    space.add_tree(root / "genai_demo", "genai_demo")
    space.add_tree(weights_dir, "weights")
    repos.append(space)
    for repo in repos:
        for path in repo.files.values():
            if path.stat().st_size > MAX_FILE_BYTES:
                raise PublishError(f"{path} is {path.stat().st_size / 1e6:.1f} MB: the Hub takes files over 10 MB "
                                   "only through Git LFS; save it in smaller shards")
    return repos


def write(repos: list[Repo], out_dir: Path, namespace: str | None = None) -> None:
    """Copy each repository's files to ``out_dir/models/<name>/`` or ``out_dir/space/``; with ``namespace``, the
    Space's card names the model repos under it (``models:`` in its front matter), so the Hub links them."""
    for repo in repos:
        for name, source in repo.files.items():
            target = out_dir / repo.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if repo.repo_type == "space" and name == "README.md" and namespace:
                from huggingface_hub import SpaceCard

                card = SpaceCard.load(target)
                card.data.models = [f"{namespace}/{r.name}" for r in repos if r.repo_type == "model"]
                card.save(target)


def summary(repos: list[Repo], namespace: str) -> str:
    lines = [f"  {repo.folder:<34} -> {repo.repo_type} {namespace}/{repo.name}: {len(repo.files)} files, "
             f"{repo.size / 1e6:.1f} MB" for repo in repos]
    total = sum(r.size for r in repos)
    return "\n".join(lines + [f"  {len(repos)} repositories, {sum(len(r.files) for r in repos)} files, "
                              f"{total / 1e6:.1f} MB"])


def push(repos: list[Repo], namespace: str | None) -> str:
    """Create (or reuse) each repository and replace its files with the planned ones; returns the namespace."""
    from huggingface_hub import HfApi, constants, get_token

    if constants.HF_HUB_OFFLINE:
        raise PublishError("cannot push while HF_HUB_OFFLINE is set: unset it, or use --dry-run DIR to look first")
    if not get_token():
        raise PublishError("no Hugging Face token: run `hf auth login` or set HF_TOKEN")
    endpoint = urlparse(constants.ENDPOINT)
    try:  # a quick probe, so a machine without network fails in seconds, not after the client's retries
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5).close()
    except OSError as e:
        raise PublishError(f"cannot reach {constants.ENDPOINT}: {e}") from None
    api = HfApi()
    try:
        namespace = namespace or api.whoami()["name"]
        with tempfile.TemporaryDirectory(prefix="genai-publish-") as staging:
            write(repos, Path(staging), namespace)
            for repo in repos:
                repo_id = f"{namespace}/{repo.name}"
                api.create_repo(repo_id, repo_type=repo.repo_type, exist_ok=True,
                                space_sdk="gradio" if repo.repo_type == "space" else None)
                api.upload_folder(repo_id=repo_id, repo_type=repo.repo_type, folder_path=Path(staging) / repo.folder,
                                  delete_patterns="*", commit_message="Publish with python -m genai_demo publish")
                print(f"pushed {repo.repo_type} {repo_id}", flush=True)
    except Exception as e:  # HTTP errors, a refused token, a dropped connection: one line, not a traceback
        raise PublishError(f"push failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    return namespace


def publish(dry_run: str | None, namespace: str | None, weights_dir: str | None = None) -> int:
    """The ``publish`` command: write the folders to ``dry_run``, or push them; print what and how much."""
    repos = plan(weights_dir)
    if dry_run:
        out = Path(dry_run)
        if out.exists() and any(out.iterdir()):
            raise PublishError(f"{out} is not empty: give --dry-run a new or empty folder")
        write(repos, out, namespace)
        print(f"wrote to {out}, as it would be pushed:\n{summary(repos, namespace or '<your namespace>')}")
        return 0
    namespace = push(repos, namespace)
    print(f"published:\n{summary(repos, namespace)}")
    return 0
