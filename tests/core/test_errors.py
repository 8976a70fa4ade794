"""Every error newsmon raises on purpose says whether trying again can help."""

from __future__ import annotations

import pytest

from core import errors
from core.errors import FetchError, NewsmonError, PermanentError, TransientError


def _leaf_classes() -> list[type[NewsmonError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, NewsmonError) and value.__module__ == errors.__name__
    ]


@pytest.mark.parametrize("cls", _leaf_classes(), ids=lambda cls: cls.__name__)
def test_every_error_is_transient_or_permanent_or_carries_its_kind(cls: type[NewsmonError]) -> None:
    if cls in (NewsmonError, errors.WarehouseError, FetchError):
        return  # the base, a family whose subclasses decide, and the one that carries `kind`
    assert issubclass(cls, TransientError) != issubclass(cls, PermanentError)


def test_transient_flag_follows_the_class_or_the_kind() -> None:
    assert errors.LockTimeout("busy").transient and errors.WarehouseUnavailable("full").transient
    assert not errors.ConfigError("bad").transient and not errors.WarehouseVersionError("newer").transient
    assert FetchError("transient", "HTTP 503").transient and not FetchError("permanent", "HTTP 404").transient
    assert not FetchError("refused", "private address").transient


def test_the_warehouse_family_is_caught_as_one() -> None:
    for cls in (errors.WarehouseUnavailable, errors.WarehouseMissing, errors.WarehouseVersionError):
        with pytest.raises(errors.WarehouseError):
            raise cls("x")


def test_keyword_errors_are_still_value_errors() -> None:
    with pytest.raises(ValueError, match="bad"):
        raise errors.KeywordError("bad")
