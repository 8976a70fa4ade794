"""Where the files shipped with newsmon live (seed corpus, sample site, bundled taxonomy)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def bundled_seeds_dir() -> Path:
    return PROJECT_DIR / "seeds"


def sample_site_dir() -> Path:
    return PROJECT_DIR / "examples" / "site"


def bundled_taxonomy_file() -> Path:
    return PACKAGE_DIR / "data" / "taxonomy.yaml"
