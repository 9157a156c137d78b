"""The import rules in pyproject.toml ([tool.importlinter]) hold, and the checker would
catch a new violation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parents[2]


def lint(config: Path, *contract_ids: str) -> bool:
    """Run lint-imports on ``config`` (only ``contract_ids`` if given); True when all kept."""
    configuration.configure()
    return use_cases.lint_imports(config_filename=str(config), limit_to_contracts=contract_ids,
                                  cache_dir=None, no_logo=True) == use_cases.SUCCESS


def broken(config: Path, contract_ids: tuple[str, ...]) -> list[str]:
    """The ids among ``contract_ids`` whose contract is broken."""
    return [cid for cid in contract_ids if not lint(config, cid)]


def test_the_tree_keeps_every_import_rule() -> None:
    configuration.configure()
    contracts = use_cases.read_user_options(str(ROOT / "pyproject.toml")).contracts_options
    assert {c["id"] for c in contracts} >= {"root", "kernel", "pure", "layers"}
    assert lint(ROOT / "pyproject.toml"), "an import rule is broken: see the report above"


SYNTHETIC = ("root", "pure", "layers")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny tree shaped like civic311: a root, a capability with a pure core, a kernel."""
    base = tmp_path / "src"
    _write(base / "archroot" / "__init__.py", "")
    _write(base / "archroot" / "app.py", "import archcap.core\n")
    _write(base / "archcap" / "__init__.py", "")
    _write(base / "archcap" / "core.py", "import archkernel.base\n")
    _write(base / "archkernel" / "__init__.py", "")
    _write(base / "archkernel" / "base.py", "import json\n")
    _write(tmp_path / "contracts.toml", """\
        [tool.importlinter]
        root_packages = ["archroot", "archcap", "archkernel"]
        include_external_packages = true

        [[tool.importlinter.contracts]]
        id = "root"
        name = "capability never imports the root"
        type = "forbidden"
        source_modules = ["archcap", "archkernel"]
        forbidden_modules = ["archroot"]

        [[tool.importlinter.contracts]]
        id = "pure"
        name = "pure core imports no database library"
        type = "forbidden"
        source_modules = ["archcap.core"]
        forbidden_modules = ["sqlalchemy"]

        [[tool.importlinter.contracts]]
        id = "layers"
        name = "layers"
        type = "layers"
        layers = ["archroot", "archcap", "archkernel"]
        """)
    monkeypatch.syspath_prepend(str(base))
    return tmp_path


def test_the_synthetic_tree_is_clean(synthetic: Path) -> None:
    assert broken(synthetic / "contracts.toml", SYNTHETIC) == []


def test_a_capability_importing_the_root_fails(synthetic: Path) -> None:
    _write(synthetic / "src" / "archcap" / "late.py", "from archroot import app\n")
    assert broken(synthetic / "contracts.toml", SYNTHETIC) == ["root", "layers"]


def test_a_pure_core_importing_a_database_library_fails(synthetic: Path) -> None:
    _write(synthetic / "src" / "archcap" / "core.py", "import sqlalchemy\n")
    assert broken(synthetic / "contracts.toml", SYNTHETIC) == ["pure"]


def test_an_indirect_import_through_a_helper_also_fails(synthetic: Path) -> None:
    _write(synthetic / "src" / "archcap" / "helper.py", "import sqlalchemy\n")
    _write(synthetic / "src" / "archcap" / "core.py", "from archcap import helper\n")
    assert broken(synthetic / "contracts.toml", SYNTHETIC) == ["pure"]


def test_a_cycle_between_packages_fails(synthetic: Path) -> None:
    _write(synthetic / "src" / "archkernel" / "up.py", "import archcap.core\n")
    assert broken(synthetic / "contracts.toml", SYNTHETIC) == ["layers"]
