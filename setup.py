"""Packaging details that pyproject.toml cannot express (everything else is in pyproject.toml).

The shipped weights stay in the repository's ``weights/`` (one folder per model, each a Hub-style model repo) and
the credits in ``docs/credits.md``; a built package carries them as ``genai_demo/weights`` and
``genai_demo/docs/credits.md``, where ``genai_demo.contract.DEFAULT_WEIGHTS_ROOT`` and the About tab find them.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["genai_demo", "genai_demo.*"]), "genai_demo.weights", "genai_demo.docs"],
    package_dir={"genai_demo.weights": "weights", "genai_demo.docs": "docs"},
    package_data={"genai_demo": ["**/*.css", "**/*.js", "**/*.json", "**/*.md", "**/*.toml", "data/*.png"],
                  "genai_demo.weights": ["**/*"], "genai_demo.docs": ["credits.md"]},
    exclude_package_data={"genai_demo.weights": ["**/__pycache__/*"]},
)
