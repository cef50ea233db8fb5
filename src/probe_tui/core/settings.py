"""The user's settings (settings.toml in the config directory, beside endpoints.toml): read once at
start, written again when one changes. For now it holds the app's theme."""

from __future__ import annotations

import tomllib
from pathlib import Path

import platformdirs
import tomli_w

from .errors import ProbeError
from .paths import APP_NAME


def settings_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def load_settings() -> dict:
    """The saved settings; {} when there are none yet."""
    path = settings_file()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: not a valid TOML file ({' '.join(str(exc).split())})") from None


def save_settings(settings: dict) -> None:
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(settings), encoding="utf-8")
