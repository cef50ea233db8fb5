import subprocess
import sys
from pathlib import Path

from probe_tui.core import paths

ROOT = Path(__file__).resolve().parents[1]


def test_core_and_backends_never_import_textual():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_installed_package_finds_its_assets():
    assets = paths.assets_dir()
    assert (assets / "items" / "mfq2.yaml").is_file()
    assert (assets / "baselines" / "mfq2_foundation_country_means.csv").is_file()
    assert (assets / "baselines" / "README.md").read_text(encoding="utf-8").count("Atari") >= 2
    assert (assets / "personas" / "personas.yaml").is_file()
