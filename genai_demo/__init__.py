"""GenAI playground: generative models you can touch, one tab per modality.

Layers (see docs/architecture.md): ``registry`` lists the models, ``adapters``
wrap each one behind the contract in ``contract``, and ``models``, ``data`` and
``train`` hold plain PyTorch code. Only ``genai_demo.ui`` and ``app.py`` import gradio.
"""

__version__ = "0.1.0"
