"""The layering, enforced: import-linter's contracts in pyproject.toml (core imports no textual and no
backends; backends and the headless modes import no UI; the app, screens and widgets import neither
the CLI nor the sweep; widgets import no screens), and no import cycle among probe_tui's modules."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from probe_tui.core import paths

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_keeps_to_its_imports():
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # this checkout's code, not an installed copy
    result = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in result.stdout


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = lowest[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = lowest[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, iter(sorted(graph.find_modules_directly_imported_by(other)))))
                    break
                if other in on_stack:
                    lowest[module] = min(lowest[module], index[other])
            else:
                work.pop()
                if work:
                    lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[module])
                if lowest[module] == index[module]:
                    component = []
                    while True:
                        other = stack.pop()
                        on_stack.discard(other)
                        component.append(other)
                        if other == module:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert import_cycles(graph) == [["a.b", "a.c"]]


def test_no_import_cycle_among_the_modules():
    """Imports inside functions count: a cycle there still knots the modules together."""
    graph = grimp.build_graph("probe_tui", cache_dir=None)
    assert "probe_tui.core.settings" in graph.modules
    assert import_cycles(graph) == []


def test_installed_package_finds_its_assets():
    assets = paths.assets_dir()
    assert (assets / "items" / "mfq2.yaml").is_file()
    assert (assets / "baselines" / "mfq2_foundation_country_means.csv").is_file()
    assert (assets / "baselines" / "README.md").read_text(encoding="utf-8").count("Atari") >= 2
    assert (assets / "personas" / "personas.yaml").is_file()
