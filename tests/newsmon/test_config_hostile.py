"""Hostile config files (class 7 of issue 16): each ends `newsmon` with exit 2 and one line naming the
file, in bounded time and memory (checked on a real process with an address-space limit)."""

from __future__ import annotations

import contextlib
import io
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmon.cli import main

MEMORY_LIMIT = 1536 * 1024 * 1024  # the alias bomb grew past 3 GB
SECONDS = 60

_GOOD = "warehouse: wh.duckdb\nfeeds: []\n"


def _bomb(level: int = 8) -> str:
    """A billion-laughs YAML value, its anchors defined inline: 9**9 'lol's in a few hundred bytes."""
    if level == 0:
        return "&a0 [" + ", ".join(["lol"] * 9) + "]"
    return f"&a{level} [{_bomb(level - 1)}, " + ", ".join([f"*a{level - 1}"] * 8) + "]"


HOSTILE: dict[str, bytes] = {
    "alias bomb as the feeds": f"warehouse: wh.duckdb\nfeeds: [{_bomb()}]\n".encode(),
    "alias bomb as a section": f"warehouse: wh.duckdb\nfeeds: []\nnetwork: {_bomb()}\n".encode(),
    "alias bomb as a duration": f"warehouse: wh.duckdb\nfeeds: []\nnetwork: {{read_timeout: {_bomb()}}}\n".encode(),
    "alias bomb as a name": f"warehouse: wh.duckdb\nfeeds: [{{url: 'https://a/', name: {_bomb()}}}]\n".encode(),
    "5,000-digit integer": f"warehouse: wh.duckdb\nfeeds: []\nnetwork: {{retries: {'9' * 5000}}}\n".encode(),
    "5,000-deep list": f"warehouse: wh.duckdb\nfeeds: {'[' * 5000}{']' * 5000}\n".encode(),
    "5,000-deep mapping": ("warehouse: wh.duckdb\nfeeds: []\nnetwork: " + "{a: " * 5000 + "1" + "}" * 5000).encode(),
    "NaN duration": b"warehouse: wh.duckdb\nfeeds: []\nnetwork: {deadline_seconds: .nan}\n",
    "inf duration": b"warehouse: wh.duckdb\nfeeds: []\nnetwork: {read_timeout: .inf}\n",
    "-inf interval": b"warehouse: wh.duckdb\nfeeds: []\npolling: {max_interval_seconds: -.inf}\n",
    "inf timeout": b"warehouse: wh.duckdb\nfeeds: []\nnotifications: {timeout_seconds: .inf}\n",
    "NUL byte": b"warehouse: wh.duckdb\x00\nfeeds: []\n",
    "UTF-16 with BOM": _GOOD.encode("utf-16"),
    "UTF-16 without BOM": _GOOD.encode("utf-16-le"),
    "UTF-32": _GOOD.encode("utf-32"),
    "latin-1 bytes": "warehouse: caf\xe9.duckdb\nfeeds: []\n".encode("latin-1"),
    "huge string": b"warehouse: wh.duckdb\nfeeds: []\nnetwork: {user_agent: [" + b"x" * 3_000_000 + b"]}\n",
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_check(folder: Path, content: bytes) -> subprocess.CompletedProcess[str]:
    """`newsmon status` on the file, in a child process that may not use more than MEMORY_LIMIT."""
    path = folder / "config.yaml"
    path.write_bytes(content)
    code = "import sys; from newsmon.cli import main; sys.exit(main(['status', '--config', sys.argv[1]]))"
    return subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=_limit_memory,
        check=False,
    )


def _assert_one_line_exit_2(result: subprocess.CompletedProcess[str], path: Path) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-1500:])
    assert len(lines) == 1 and lines[0].startswith(f"newsmon: config error: {path}"), lines[:3]
    assert len(lines[0]) < 1000


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_config_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    _assert_one_line_exit_2(run_check(tmp_path, HOSTILE[name]), tmp_path / "config.yaml")


_YAMLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "warehouse: wh.duckdb\n",
                "feeds:\n",
                "network:\n",
                "  read_timeout: ",
                ".nan",
                "&a ",
                "*a",
                "[",
                "]",
                "{",
                "}",
                "- ",
                ": ",
                "!!python/object:os.system ",
                "\x00",
                "\t",
                "'",
                '"',
                "9" * 40,
                "\ufeff",
                "\\x",
                "%YAML 1.1\n",
                "---\n",
                "...\n",
            ]
        ),
        st.text(max_size=10),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=60, suppress_health_check=list(HealthCheck))
@given(_YAMLISH, st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_fuzzed_config_text_is_exit_2_and_one_line_or_accepted(text: str, encoding: str) -> None:
    """In-process (the fuzzed files are small): a config error is exit 2 and one line; anything else is
    accepted (then `status` answers 0, or 1 because there is no warehouse yet)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(text.encode(encoding, "surrogatepass"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["status", "--config", str(path)])
    lines = err.getvalue().strip().splitlines()
    assert code in (0, 1, 2)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith(f"newsmon: config error: {path}"), lines
