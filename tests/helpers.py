"""Small helpers shared by the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modelspec.checked import check_spec
from modelspec.errors import Problem, SpecError

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def problems(tmp_path: Path, text: str) -> list[Problem]:
    """The problems `modelspec validate` reports for this spec text (fails if it is valid)."""
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        check_spec(path)
    return caught.value.problems


def only_problem(tmp_path: Path, text: str) -> Problem:
    found = problems(tmp_path, text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]
