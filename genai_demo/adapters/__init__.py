"""One adapter per model id. Adapters import torch only inside their methods."""
