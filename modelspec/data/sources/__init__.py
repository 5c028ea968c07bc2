"""One reader per source form registered in modelspec.data.config: `read(reader, source)` adds the arrays it reads.

archive (`train: data.npz`), files (`{x: ..., y: ...}`), dataset (`{dataset: digits}`), synthetic
(`{synthetic: {samples: N}}`). The `reader` (modelspec.data.reader.Reader) knows the model's inputs
and targets, reads files and collects problems; `load_source` raises them together.
"""
