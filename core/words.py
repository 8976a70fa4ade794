"""Counted nouns for messages people read: "1 copy", "2 copies", "0 failed feeds"."""

from __future__ import annotations


def plural(singular: str) -> str:
    """The English plural of a lower-case noun of our messages (copy -> copies, feed -> feeds)."""
    if singular.endswith("y") and singular[-2:-1] not in ("a", "e", "i", "o", "u"):
        return singular[:-1] + "ies"
    if singular.endswith(("s", "x", "ch", "sh")):
        return singular + "es"
    return singular + "s"


def count_of(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the right number; the noun may be several words ("weighted failure")."""
    if count == 1:
        return f"{count} {singular}"
    *head, last = singular.split(" ")
    word = plural_form or " ".join([*head, plural(last)])
    return f"{count} {word}"
