"""The user's settings, in one place: the defaults, the PROBE_TUI_* environment variables and
config.toml in the config directory (beside endpoints.toml), read once into one frozen Settings.
An environment variable wins over config.toml, and config.toml over the default.

settings.toml beside them is what the app remembers: the theme last picked in the palette, used when
neither config.toml nor $PROBE_TUI_THEME names one. probe-tui writes settings.toml, never config.toml.
$PROBE_TUI_LOG is not a setting here: the CLI sets it while running, to tell the model worker."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from pathlib import Path

import platformdirs
import tomli_w
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .errors import ProbeError
APP_NAME = "probe-tui"
ENV_PREFIX = "PROBE_TUI_"


def config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def settings_file() -> Path:
    """settings.toml: what the app remembers between launches (the theme)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


class Settings(BaseSettings):
    """Every default a user may change. The CLI's options and a screen's choices override them."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    model: str = Field("smollm2-135m-instruct", description="the model when none is given: a GGUF path, a file name in models/ or an embedded model")
    instrument: str = Field("mfq2", description="the instrument the app and `run` start with")
    language: str = Field("en", description="the prompt language `run` starts with")
    persona: str = Field("none", description="the persona `run` starts with")
    n_ctx: int = Field(4096, ge=1, description="llama: the context length")
    n_gpu_layers: int | None = Field(None, description="llama: layers offloaded to the GPU (none: all if this build has a GPU backend, else 0)")
    threads: int | None = Field(None, ge=1, description="llama: CPU threads (none: llama.cpp's choice)")
    timeout: float = Field(60.0, gt=0, description="remote APIs given by flags: seconds per request")
    concurrency: int = Field(1, ge=1, description="`run`: items in flight at once, for remote backends")
    theme: str | None = Field(None, description="the app's theme (none: the one last picked in the palette)")
    countries_instrument: str = Field("vsm2013", description="the instrument the countries view (c) asks")
    models: Path = Field(Path("models"), description="the first folder searched for GGUF files ($PROBE_TUI_MODELS)")
    bidi: bool = Field(True, description="reorder right-to-left text for display ($PROBE_TUI_BIDI=0 for terminals that do it)")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id = keys, e.g. \"probe.next_item\" = \"j\"")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file())


DEFAULTS = Settings.model_construct()  # the defaults alone, for code that must not read the user's files


@functools.cache
def get_settings() -> Settings:
    """The settings, read once (tests call get_settings.cache_clear()). A bad config.toml or variable
    is one ProbeError naming the file, line and field, or the variable."""
    path = config_file()
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise ProbeError(f"{path}: not a valid TOML file ({' '.join(str(exc).split())})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: cannot read it ({exc})") from None
    except ValidationError as exc:
        raise ProbeError(_one_line(exc.errors()[0], path)) from None


def _one_line(error: dict, path: Path) -> str:
    location = [str(part) for part in error["loc"]]
    message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
    variable = ENV_PREFIX + location[0].upper()
    if variable in os.environ:
        return f"${variable}: {message} (it is {os.environ[variable]!r})"
    field = ".".join(f'"{part}"' if "." in part else part for part in location)
    return f"{path}:{_line_of(path, location)}: {field}: {message}"


def _line_of(path: Path, location: list[str]) -> int:
    """The line of config.toml that sets the field (its last key), or 1."""
    key = re.escape(location[-1])
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(rf"""\s*(["']?){key}\1\s*=""", line):
            return number
    return 1


def load_remembered() -> dict:
    """What the app remembered (settings.toml); {} when nothing yet."""
    path = settings_file()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: not a valid TOML file ({' '.join(str(exc).split())})") from None


def save_remembered(remembered: dict) -> None:
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(remembered), encoding="utf-8")
