"""The spec validator cached across processes: the same answers as a fresh build, and only from trusted files."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from modelspec.schema import cache as schema_cache
from tests.helpers import SPECS

BAD_SPEC = """
name: two_mistakes
sequential:
  - {type: Dense, unit: 8, input_dim: 4}
  - {type: Dropot, rate: 0.5}
compile: {optimizer: adma, loss: mse}
"""

def run_validate(spec, cache, *, forbid_build: bool = False):
    """`modelspec validate SPEC` in a new process with MODELSPEC_CACHE_DIR=cache; (rc, stdout, stderr).

    With `forbid_build`, building any pydantic schema ends the process (a test-only patch of
    pydantic's schema generator): it can only succeed by restoring Spec's validator from the cache.
    """
    prelude = ""
    if forbid_build:
        prelude = (
            "from pydantic._internal import _generate_schema\n"
            "def refuse(*args, **kwargs):\n"
            "    raise SystemExit('a schema was built')\n"
            "_generate_schema.GenerateSchema.generate_schema = refuse\n"
        )
    code = prelude + "from modelspec_cli.main import main\nmain(['validate', sys.argv[1]], prog_name='modelspec')\n"
    env = {**os.environ, "MODELSPEC_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", "import sys\n" + code, str(spec)], capture_output=True, text=True, env=env, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr


def cached_files(cache):
    return sorted(cache.glob("*.pickle")) if cache.exists() else []


def test_a_warm_run_restores_the_validator_and_answers_as_a_cold_one(tmp_path):
    cache = tmp_path / "cache"
    spec = SPECS / "digits_mlp.yaml"
    cold = run_validate(spec, cache)
    assert cold[0] == 0, cold
    assert len(cached_files(cache)) == 1
    warm = run_validate(spec, cache, forbid_build=True)
    assert warm == cold


def test_errors_from_the_cached_validator_are_the_same_located_errors(tmp_path):
    cache = tmp_path / "cache"
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD_SPEC.lstrip())
    uncached = run_validate(spec, "off")
    assert uncached[0] == 2
    assert "bad.yaml:3" in uncached[2] and "bad.yaml:4" in uncached[2] and "bad.yaml:5" in uncached[2], uncached[2]
    assert cached_files(tmp_path / "off") == []
    cold = run_validate(spec, cache)
    warm = run_validate(spec, cache, forbid_build=True)
    assert cold == uncached
    assert warm == uncached


def test_a_corrupt_cache_file_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    spec = SPECS / "digits_mlp.yaml"
    first = run_validate(spec, cache)
    (path,) = cached_files(cache)
    path.write_bytes(b"not a pickle")
    assert run_validate(spec, cache) == first
    assert path.read_bytes() != b"not a pickle"
    assert run_validate(spec, cache, forbid_build=True) == first


class Small(BaseModel):
    size: int


SMALL = TypeAdapter(Small).validator


def test_store_and_restore_a_validator(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(tmp_path))
    schema_cache.store("small", "k1", SMALL)
    (path,) = tmp_path.glob("*.pickle")
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    restored = schema_cache.restore("small", "k1")
    assert restored is not None and restored is not SMALL
    assert restored.validate_python({"size": 3}) == Small(size=3)
    with pytest.raises(ValidationError):
        restored.validate_python({"size": "x"})
    assert schema_cache.restore("small", "another key") is None
    assert schema_cache.restore("other", "k1") is None


def test_files_others_can_write_are_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(tmp_path))
    schema_cache.store("small", "k1", SMALL)
    (path,) = tmp_path.glob("*.pickle")
    path.chmod(0o666)
    assert schema_cache.restore("small", "k1") is None
    path.chmod(0o600)
    tmp_path.chmod(0o777)
    try:
        assert schema_cache.restore("small", "k1") is None
    finally:
        tmp_path.chmod(0o700)
    assert schema_cache.restore("small", "k1") is not None


@pytest.mark.parametrize("setting", ["off", "", "0"])
def test_the_cache_can_be_turned_off(tmp_path, monkeypatch, setting):
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", setting)
    monkeypatch.chdir(tmp_path)
    schema_cache.store("small", "k1", SMALL)
    assert list(tmp_path.iterdir()) == []
    assert schema_cache.restore("small", "k1") is None


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("MODELSPEC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert schema_cache.cache_dir() == tmp_path / "modelspec"


def test_an_unwritable_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would be")
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(blocker / "cache"))
    schema_cache.store("small", "k1", SMALL)  # no exception
    assert schema_cache.restore("small", "k1") is None


def test_the_key_covers_the_parts_and_every_loaded_modelspec_file(tmp_path, monkeypatch):
    assert schema_cache.cache_key(["Dense"]) != schema_cache.cache_key(["Dense", "LSTM"])
    source = tmp_path / "fake.py"
    source.write_text("x = 1\n")
    module = types.ModuleType("modelspec.fake_for_key")
    module.__file__ = str(source)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    before = schema_cache.cache_key(["Dense"])
    assert schema_cache.cache_key(["Dense"]) == before
    source.write_text("x = 22\n")
    assert schema_cache.cache_key(["Dense"]) != before


def test_old_files_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(schema_cache, "MAX_FILES", 3)
    for number in range(5):
        schema_cache.store("small", f"k{number}", SMALL)
        os.utime(next(tmp_path.glob(f"*k{number}.pickle")), (number, number))
    schema_cache.store("small", "k5", SMALL)
    assert len(list(tmp_path.glob("*.pickle"))) == 3


def test_layer_types_from_plugins_are_not_cached(monkeypatch):
    from modelspec import layers
    from modelspec.schema import build

    plugin_layer = type("PluginLayer", (), {"__module__": "lab_layers"})
    monkeypatch.setitem(layers.LAYERS, "PluginLayer", plugin_layer)
    assert build.cache_key() is None


def test_the_spec_key_names_every_registry_and_its_members(monkeypatch):
    from modelspec import layers
    from modelspec.schema import build

    before = build.cache_key()
    monkeypatch.setitem(layers.LAYERS, "Extra", type("Extra", (), {"__module__": "modelspec.layers.extra"}))
    assert build.cache_key() not in (None, before)
