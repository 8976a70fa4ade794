"""The seed corpus (originals for deduplication), shipped inside the installed package as data files:
newsmon.resources.bundled_seeds_dir() finds them. One text file per seed; the stem is the seed id."""
