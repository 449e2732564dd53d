"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""
