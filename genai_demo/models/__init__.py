"""Plain PyTorch models. Each file holds one model end to end; none imports gradio."""
