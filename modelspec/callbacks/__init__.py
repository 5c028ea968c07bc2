"""Callbacks: Keras 3's names, arguments and behaviour.

    fit: {callbacks: [{type: EarlyStopping, monitor: val_loss, patience: 3}, TerminateOnNaN]}   # in a spec

- `config`: the callback configs (pydantic, no torch), one class each, registered by
  `@register_callback("module:Class")`, which names its torch implementation, and `check_callbacks`
  (what they read from the logs and the files they write, checked while validating);
- `runtime`: the `Callback` base class the training loop calls, one subclass per config, and `build_callback`.

This package and its `config` never import torch; only `runtime` does:

    from modelspec.callbacks.config import CALLBACKS
    from modelspec.callbacks.runtime import build_callback
    callback = build_callback(CALLBACKS["EarlyStopping"](type="EarlyStopping", patience=2))

A callback sees the run through `params` (as Keras's: epochs, steps, initial_epoch, batch_size, resume) and a
narrow `context` (modelspec.callbacks.runtime.CallbackContext), set by the loop before on_train_begin. With
`verbose: 1`, a callback's messages go through `context.message` to the other callbacks' `on_message` (the CLI's
progress prints them); the library prints nothing.

Adding a callback: a config class in `config.py` under `@register_callback("modelspec.callbacks.runtime:Name")`,
its Callback subclass (taking the config) in `runtime.py`, and a test in tests/test_callbacks.py.
Nothing here is imported for a spec without fit.callbacks (modelspec.training_spec's CALLBACK_TYPES loads it).
"""
