"""The one YAML validator: problems name the document, the key and what is wrong; settings sections are
read by their dataclass's field types and bounds."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, TaxonomyError
from core.settings import HttpPolicy, PipelineSettings, PollingPolicy
from core.validate import TreeReader, load_yaml, read_section


def test_unknown_keys_are_named_with_their_path() -> None:
    reader = TreeReader("conf.yaml", ConfigError)
    with pytest.raises(ConfigError, match=r"^conf.yaml: network.proxy: unknown key \(expected one of: a, b\)$"):
        reader.mapping({"a": 1, "proxy": 2}, "network", {"a", "b"})


def test_the_caller_chooses_the_error_class() -> None:
    with pytest.raises(TaxonomyError, match=r"^tax\.yaml: line 1: not valid YAML"):
        load_yaml("a: [", "tax.yaml", TaxonomyError)


def test_a_section_keeps_defaults_and_converts_by_field_type() -> None:
    reader = TreeReader("c", ConfigError)
    policy = read_section(reader, HttpPolicy, {"read_timeout": 5, "allow_hosts": ["127.0.0.1"]}, "network")
    assert policy == HttpPolicy(read_timeout=5.0, allow_hosts=("127.0.0.1",))
    assert read_section(reader, PollingPolicy, None, "polling") == PollingPolicy()


@pytest.mark.parametrize(
    ("cls", "raw", "message"),
    [
        (HttpPolicy, {"connect_timeout": 0.01}, "network.connect_timeout: must be at least 0.1"),
        (HttpPolicy, {"max_redirects": 1.5}, "network.max_redirects: expected a whole number"),
        (HttpPolicy, {"retries": True}, "network.retries: expected a whole number, got True"),
        (PipelineSettings, {"fetch_pages": "yes"}, "network.fetch_pages: expected true or false"),
        (PipelineSettings, {"batch_size": 0}, "network.batch_size: must be at least 1"),
    ],
)
def test_bounds_and_types_come_from_the_settings_fields(cls: type, raw: dict[str, object], message: str) -> None:
    reader = TreeReader("c", ConfigError)
    with pytest.raises(ConfigError, match=message):
        read_section(reader, cls, raw, "network", {"dask_address": reader.text})


def test_a_field_without_a_converter_must_be_given_one() -> None:
    with pytest.raises(TypeError, match=r"str \| None"):
        read_section(TreeReader("c", ConfigError), PipelineSettings, {}, "pipeline")
