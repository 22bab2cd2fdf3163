"""Settings: one TOML file (shipped default, or BRIEFBOT_SETTINGS), then environment overrides.

Every key ``[section] key`` can be overridden by ``BRIEFBOT_<SECTION>_<KEY>``; the store URL
also by ``BRIEFBOT_DATABASE_URL``. Each value remembers where it came from, so an error can
name the setting the user has to fix.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from briefs.errors import SettingsError
from briefs.resources import config_dir, seeds_dir


@dataclass(frozen=True)
class FeedSettings:
    """The [feeds] section: politeness, safety and polling bounds (docs/feeds.md)."""

    contact: str = ""
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 5_000_000
    # Items taken from one fetch (the newest); the rest are skipped with a warning.
    max_items_per_fetch: int = 500
    max_redirects: int = 5
    per_host_concurrency: int = 2
    concurrency: int = 8
    min_interval_minutes: float = 15.0
    default_interval_minutes: float = 60.0
    max_interval_minutes: float = 1440.0
    max_failures: int = 10
    allow_private_addresses: bool = False
    allowed_hosts: tuple[str, ...] = ()
    full_text: bool = False
    # A team's own list of suggested feeds, instead of the shipped config/feeds.toml.
    suggested_file: Path | None = None
    # A team's own outlets, read after the shipped config/outlets.toml (theirs win).
    outlets_file: Path | None = None


@dataclass(frozen=True)
class PoolOptions:
    """Connection pool of a PostgreSQL store ([store] pool_* settings). SQLite ignores it:
    a file needs no pool of network connections."""

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    pool_recycle: float = 1800.0


@dataclass(frozen=True)
class ScheduleSettings:
    """The [schedules] section: digests, catch-up, delivery retries, polling.

    See docs/operations.md.
    """

    post_when_empty: bool = False
    max_items: int = 12
    catch_up_hours: float = 12.0
    stale_claim_minutes: float = 30.0
    retries: int = 3
    retry_backoff_seconds: float = 5.0
    max_rate_limit_wait_seconds: float = 600.0
    poll_tick_seconds: float = 60.0
    poll_jitter_seconds: float = 15.0
    # How long a process holds the feeds it claimed for a poll (docs/scaling.md): longer
    # than a poll's worst case, so only a dead process's feeds outlive their lease.
    poll_lease_seconds: float = 600.0
    sweep_minutes: float = 5.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    seeds_dir: Path
    article_suffixes: tuple[str, ...]
    max_items: int
    bluf_items: int
    search_limit: int
    templates_dir: Path | None
    seed_corpus: bool = True
    # Bounds on what one input may cost (docs/operations.md, "Limits"): the largest file
    # `ingest` reads, and the sentences of one document analysed.
    max_file_bytes: int = 5_000_000
    max_sentences: int = 2000
    # Processes analysing text ([analysis] workers): 0 = one per core, 1 = this one only.
    analysis_workers: int = 0
    feeds: FeedSettings = field(default_factory=FeedSettings)
    pool: PoolOptions = field(default_factory=PoolOptions)  # [store] pool_*, PostgreSQL only
    schedules: ScheduleSettings = field(default_factory=ScheduleSettings)
    extra_entities: Path | None = None
    extra_topics: Path | None = None
    # Compiled templates kept between runs (briefs.render.template_cache): from the
    # environment, $XDG_CACHE_HOME/briefbot or ~/.cache/briefbot; None: compile every run.
    cache_dir: Path | None = None
    # Where each value came from: "file <path>" or "environment variable NAME".
    origins: Mapping[str, str] = field(default_factory=dict)
    # Every section as read (types checked against the shipped file), for what only a
    # front end reads: the Discord bot's [discord] (bot/settings.py).
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def origin(self, key: str) -> str:
        return self.origins.get(key, "default")


def _default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "briefbot"


def _default_cache_dir(env: Mapping[str, str]) -> Path | None:
    """$XDG_CACHE_HOME/briefbot, else ~/.cache/briefbot (HOME as ``env`` has it); None when
    there is no home to find (a cache is never worth an error)."""
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "briefbot"
    try:
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    except RuntimeError:
        return None
    return home / ".cache" / "briefbot"


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{what}: settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{what}: {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"{what}: cannot read {path} ({exc.strerror})") from None


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Read the default settings, an optional user file, then environment overrides."""
    env = os.environ if env is None else env
    default_file = config_dir() / "settings.toml"
    raw = _read_toml(default_file, "shipped settings")
    origins: dict[str, str] = {}
    user_file = path or (Path(env["BRIEFBOT_SETTINGS"]) if env.get("BRIEFBOT_SETTINGS") else None)
    if user_file is not None:
        user = _read_toml(user_file, "BRIEFBOT_SETTINGS" if path is None else "--settings")
        for section, values in user.items():
            if section not in raw or not isinstance(values, dict):
                raise SettingsError(f"{user_file}: unknown settings section [{section}]")
            for key in values:
                if key not in raw[section]:
                    known = ", ".join(sorted(raw[section]))
                    raise SettingsError(
                        f"{user_file}: unknown setting {key!r} in [{section}] (known: {known})"
                    )
        _merge(raw, user)
        for section, values in user.items():
            if isinstance(values, dict):
                for key in values:
                    origins[f"{section}.{key}"] = f"{key} in [{section}] of {user_file}"

    for section, values in raw.items():
        if not isinstance(values, dict):
            continue
        for key, default in values.items():
            name = f"BRIEFBOT_{section}_{key}".upper()
            if name in env:
                values[key] = _coerce(name, env[name], default)
                origins[f"{section}.{key}"] = f"environment variable {name}"
    if "BRIEFBOT_DATABASE_URL" in env:
        raw["store"]["database_url"] = env["BRIEFBOT_DATABASE_URL"]
        origins["store.database_url"] = "environment variable BRIEFBOT_DATABASE_URL"
    _check_types(_read_toml(default_file, "shipped settings"), raw, origins)

    def get(section: str, key: str) -> Any:
        try:
            return raw[section][key]
        except KeyError:
            raise SettingsError(f"setting [{section}] {key} is missing") from None

    def whole_number(section: str, key: str, floor: int = 1) -> int:
        value = get(section, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < floor:
            where = origins.get(f"{section}.{key}", f"[{section}] {key}")
            raise SettingsError(
                f"{where}: expected a whole number of at least {floor}, got {value!r}"
            )
        return value

    templates_path = _optional_path(get("templates", "dir"))
    if templates_path is not None and not templates_path.is_dir():
        where = origins.get("templates.dir", "[templates] dir")
        raise SettingsError(f"{where}: template folder {templates_path} does not exist")
    data_dir = Path(get("store", "data_dir")).expanduser() if get("store", "data_dir") else None
    data_dir = data_dir or _default_data_dir(env)
    seeds = get("ingest", "seeds_dir")
    templates = get("templates", "dir")
    return Settings(
        database_url=str(get("store", "database_url")),
        data_dir=data_dir,
        seeds_dir=Path(seeds).expanduser() if seeds else seeds_dir(),
        article_suffixes=tuple(str(s).lower() for s in get("ingest", "article_suffixes")),
        max_items=whole_number("brief", "max_items"),
        bluf_items=whole_number("brief", "bluf_items"),
        search_limit=whole_number("brief", "search_limit"),
        templates_dir=Path(templates).expanduser() if templates else None,
        seed_corpus=bool(get("ingest", "seed_corpus")),
        max_file_bytes=whole_number("ingest", "max_file_bytes"),
        max_sentences=whole_number("analysis", "max_sentences"),
        analysis_workers=whole_number("analysis", "workers", floor=0),
        feeds=_feed_settings(raw.get("feeds", {}), origins),
        pool=_pool_settings(raw.get("store", {}), origins),
        schedules=_schedule_settings(raw.get("schedules", {}), origins),
        extra_entities=_optional_path(get("analysis", "entities")),
        extra_topics=_optional_path(get("analysis", "topics")),
        cache_dir=_default_cache_dir(env),
        origins=origins,
        sections={k: dict(v) for k, v in raw.items() if isinstance(v, dict)},
    )


def _pool_settings(values: Mapping[str, Any], origins: Mapping[str, str]) -> PoolOptions:
    """The [store] pool_* keys (types are checked already): sizes of a PostgreSQL store's
    connection pool; ``max_overflow`` may be 0, the others must be above 0."""
    checked: dict[str, Any] = {}
    for key in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle"):
        if key not in values:
            continue
        value = values[key]
        floor_ok = value >= 0 if key == "max_overflow" else value > 0
        if not floor_ok or not math.isfinite(value):
            where = origins.get(f"store.{key}", f"[store] {key}")
            least = "at least 0" if key == "max_overflow" else "above 0"
            raise SettingsError(f"{where}: expected a number {least}, got {value!r}")
        checked[key] = float(value) if key in ("pool_timeout", "pool_recycle") else int(value)
    return PoolOptions(**checked)


def _feed_settings(values: Mapping[str, Any], origins: Mapping[str, str]) -> FeedSettings:
    """The [feeds] section, each value checked against the type of its default."""
    defaults = FeedSettings()
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if not hasattr(defaults, key):
            continue  # only reachable through the shipped file, which lists every key
        where = origins.get(f"feeds.{key}", f"[feeds] {key}")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            )
            value = float(value) if ok else value
        elif isinstance(default, int):
            floor = 0 if key == "max_redirects" else 1
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= floor
        elif isinstance(default, tuple):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            value = tuple(str(v).lower() for v in value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise SettingsError(f"{where}: expected {_kind(default, key)}, got {value!r}")
        checked[key] = _optional_path(value) if key in _PATH_KEYS else value
    feeds = replace(defaults, **checked)
    if not (
        feeds.min_interval_minutes <= feeds.default_interval_minutes <= feeds.max_interval_minutes
    ):
        raise SettingsError(
            "[feeds]: expected min_interval_minutes <= default_interval_minutes <= "
            f"max_interval_minutes, got {feeds.min_interval_minutes:g}, "
            f"{feeds.default_interval_minutes:g}, {feeds.max_interval_minutes:g}"
        )
    return feeds


def _schedule_settings(values: Mapping[str, Any], origins: Mapping[str, str]) -> ScheduleSettings:
    """The [schedules] section; types are checked already, ranges here (numbers above 0,
    ``retries`` at least 0)."""
    defaults = ScheduleSettings()
    checked: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(defaults, key, None)
        if default is None or isinstance(default, bool):
            checked[key] = value
            continue
        floor = 0 if key == "retries" else (1 if isinstance(default, int) else 0)
        ok = value >= floor if key == "retries" or isinstance(default, int) else value > 0
        if not ok or not math.isfinite(value):
            where = origins.get(f"schedules.{key}", f"[schedules] {key}")
            above = f"at least {floor}" if isinstance(default, int) else "above 0"
            raise SettingsError(f"{where}: expected a number {above}, got {value!r}")
        checked[key] = float(value) if isinstance(default, float) else value
    return replace(defaults, **{k: v for k, v in checked.items() if hasattr(defaults, k)})


def _check_types(
    defaults: Mapping[str, Any], raw: Mapping[str, Any], origins: Mapping[str, str]
) -> None:
    """Every value has the type of its shipped default, so a typo fails here with its name.

    ``seed_corpus = "false"`` would otherwise read as true, and ``article_suffixes = ".txt"``
    as a list of characters. Ranges are checked where each section is read.
    """
    for section, values in defaults.items():
        if not isinstance(values, dict):
            continue
        for key, default in values.items():
            value = raw.get(section, {}).get(key, default)
            if isinstance(default, bool):
                ok, kind = isinstance(value, bool), "true or false"
            elif isinstance(default, int | float):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if isinstance(default, int) and not isinstance(default, bool):
                    ok = ok and isinstance(value, int)
                kind = "a whole number" if isinstance(default, int) else "a number"
            elif isinstance(default, list):
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
                kind = 'a list of strings, like ["a", "b"]'
            elif isinstance(default, str):
                ok, kind = isinstance(value, str), "text (in quotes)"
            else:
                continue
            if not ok:
                where = origins.get(f"{section}.{key}", f"[{section}] {key}")
                raise SettingsError(f"{where}: expected {kind}, got {value!r}")


def _kind(default: Any, key: str) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, float):
        return "a number above 0"
    if isinstance(default, int):
        return f"a whole number of at least {0 if key == 'max_redirects' else 1}"
    if isinstance(default, tuple):
        return "a list of host names"
    return "text"


_PATH_KEYS = frozenset({"suggested_file", "outlets_file"})


def _optional_path(value: Any) -> Path | None:
    return Path(str(value)).expanduser() if value else None


def _coerce(name: str, text: str, default: Any) -> Any:
    """Turn an environment string into the type of the default value."""
    if isinstance(default, bool):
        if text.lower() in {"1", "true", "yes", "on"}:
            return True
        if text.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"environment variable {name}: expected true or false, got {text!r}")
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise SettingsError(
                f"environment variable {name}: expected a number, got {text!r}"
            ) from None
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise SettingsError(
                f"environment variable {name}: expected a whole number, got {text!r}"
            ) from None
    if isinstance(default, list):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text
