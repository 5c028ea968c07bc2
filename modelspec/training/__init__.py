"""Training: the torch-side loop, optimizers, losses, metrics and callbacks."""
