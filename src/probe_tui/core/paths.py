"""Where things live: shipped assets, the user's models, logs."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

from .settings import APP_NAME, get_settings


def assets_dir() -> Path:
    """Shipped assets: inside the installed package, or the repository root in a source checkout."""
    packaged = Path(str(resources.files("probe_tui"))) / "assets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "assets"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def user_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def log_file() -> Path:
    """probe-tui.log in the state directory, or $PROBE_TUI_LOG (set where that cannot be written)."""
    if os.environ.get("PROBE_TUI_LOG"):
        return Path(os.environ["PROBE_TUI_LOG"])
    directory = Path(platformdirs.user_log_dir(APP_NAME))
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "probe-tui.log"


def model_dirs() -> list[Path]:
    """Folders searched for user GGUF files: ./models (or the `models` setting, $PROBE_TUI_MODELS) and the data dir."""
    return [get_settings().models, user_data_dir() / "models"]
