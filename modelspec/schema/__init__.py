"""The spec's schema: built from the registries, cached across processes, written out for editors.

    fields.py   registry-backed field types (Kind): a field whose members are a registry's, when built
    build.py    the one builder: loads the layer types a spec names, rebuilds what the registries outgrew,
                validates a spec (build.validate_spec), keys the cache
    cache.py    the built validator kept across processes (validate and summary skip the build)
    messages.py pydantic's validation errors as located problems (received, expected, did-you-mean)
    editor.py   the JSON Schema of a spec file for editors (`modelspec schema`)

Only pydantic's public API: TypeAdapter, model_rebuild, GetPydanticSchema. Nothing here imports torch.
"""
