"""Where the files shipped with newsmon live (seed corpus, sample site, bundled taxonomy): inside the
installed packages, found through importlib.resources, so an installed wheel needs no checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_path(package: str, *parts: str) -> Path:
    return Path(str(files(package).joinpath(*parts)))


def bundled_seeds_dir() -> Path:
    return _package_path("seeds")


def sample_site_dir() -> Path:
    return _package_path("newsmon", "data", "site")


def bundled_taxonomy_file() -> Path:
    return _package_path("newsmon", "data", "taxonomy.yaml")
