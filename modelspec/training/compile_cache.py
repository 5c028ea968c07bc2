"""Where torch.compile (fit.jit_compile) keeps what it compiles: modelspec's cache folder, not $TMPDIR.

Torch inductor writes its generated C++ and Python and the shared libraries built from them to
$TORCHINDUCTOR_CACHE_DIR, by default `$TMPDIR/torchinductor_<user>`, triton's cache (CUDA) inside it, and a
precompiled header (147 MB of the 148 MB a small MLP's update wrote with torch 2.13 on the CPU) to
`$TMPDIR/torchinductor_<user>/precompiled_headers` whatever that variable says. Before modelspec compiles anything:

    use_compile_cache()   # TORCHINDUCTOR_CACHE_DIR = <modelspec cache>/torchinductor, unless already set,
                          # and the precompiled headers in its precompiled_headers/

The modelspec cache folder is the schema cache's (modelspec.schema.cache.cache_dir: $MODELSPEC_CACHE_DIR, else
$XDG_CACHE_HOME/modelspec, else ~/.cache/modelspec). A TORCHINDUCTOR_CACHE_DIR of the user's own is kept. With
MODELSPEC_CACHE_DIR=off (or a cache folder that cannot be created), a temporary folder of its own, removed when
the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from modelspec.schema.cache import cache_dir

#: The environment variable torch inductor reads its cache folder from (torch._inductor.runtime.cache_dir_utils).
INDUCTOR_CACHE_VARIABLE = "TORCHINDUCTOR_CACHE_DIR"


def use_compile_cache() -> Path:
    """Set torch inductor's cache folder to modelspec's (unless the user set one); returns the folder in use."""
    configured = os.environ.get(INDUCTOR_CACHE_VARIABLE)
    if configured:
        return Path(configured)
    folder = _cache_folder() or _process_folder()
    os.environ[INDUCTOR_CACHE_VARIABLE] = str(folder)
    _move_precompiled_headers(folder)
    return folder


def _move_precompiled_headers(folder: Path) -> None:
    """Precompiled headers into `folder` too: torch 2.13 takes their folder from tempfile.gettempdir() when
    torch._inductor.codecache is imported, whatever TORCHINDUCTOR_CACHE_DIR says (the module reads it at each use)."""
    from torch._inductor import codecache

    if isinstance(getattr(codecache, "_HEADER_DIR", None), str) and isinstance(getattr(codecache, "_HEADER_LOCK_DIR", None), str):
        codecache._HEADER_DIR = str(folder / "precompiled_headers")
        codecache._HEADER_LOCK_DIR = str(folder / "precompiled_headers" / "locks")


def _cache_folder() -> Path | None:
    """<modelspec cache>/torchinductor, created this user's only (inductor loads the libraries it finds there);
    None when the cache is off or cannot be created (a read-only home)."""
    base = cache_dir()
    if base is None:
        return None
    try:
        (base / "torchinductor").mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return base / "torchinductor"


def _process_folder() -> Path:
    """A temporary folder removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="modelspec-compile-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
