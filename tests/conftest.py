"""Test-session settings: the spec schema cache goes to a fresh folder, not the user's ~/.cache."""

import atexit
import os
import shutil
import tempfile

# Set at import, before any test runs, so that subprocesses started by tests inherit it too.
_CACHE = tempfile.mkdtemp(prefix="modelspec-test-cache-")
os.environ["MODELSPEC_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
