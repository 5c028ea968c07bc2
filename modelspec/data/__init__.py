"""The data a spec trains on, from its `data:` section to batches of tensors (one way: each module only uses those above it).

- config: the section's source forms (pydantic, no numpy) and their registry, `data_source`, from
  which the `DataSource` union, its tag function and each form's reader come;
- arrays: what the model expects of each array (`ArraySpec`) and what a source gives (`Arrays`);
- formats, reader, sources/, loading: reading a source, one reader per form (`load_source`);
- datasets/: the datasets that ship with modelspec (digits);
- checks: arrays against the expectations, every problem at once (`check_arrays`);
- splits: Keras's validation_split (`split_validation`); memmap: memory maps kept lazy;
- batches: batches of tensors (torch; the only module here that imports it).

Nothing is imported here: `modelspec.data.config` stays as light as validating a spec needs.
"""
