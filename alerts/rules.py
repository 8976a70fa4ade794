"""Compiled alert rules and matching.

A rule matches an article when every field it gives matches (AND across fields, OR within one):
platforms / topics / languages: any of; keywords: any of, a case-insensitive phrase or a /regex/ (RE2:
linear time, so a rule cannot hang a pass), on title and body. Duplicates match only with
`include_duplicates: true`; seed documents never alert (they are not articles).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import re2

from alerts.keywords import compile_keyword
from core.records import Article
from core.settings import AlertRule
from core.text import fold_for_matching


@dataclass(frozen=True)
class CompiledRule:
    rule: AlertRule
    keywords: tuple[re2._Regexp | str, ...]

    @classmethod
    def of(cls, rule: AlertRule) -> CompiledRule:
        return cls(rule, tuple(compile_keyword(k) for k in rule.keywords))

    def matches(self, article: Article) -> bool:
        rule = self.rule
        if article.duplicate_of is not None and not rule.include_duplicates:
            return False
        if rule.platforms and not set(rule.platforms) & set(article.platforms):
            return False
        if rule.topics and not set(rule.topics) & set(article.topics):
            return False
        if rule.languages and article.language not in rule.languages:
            return False
        return not self.keywords or self._keyword_found(f"{article.title}\n{article.text}")

    def _keyword_found(self, text: str) -> bool:
        folded = fold_for_matching(text)
        for keyword in self.keywords:
            if isinstance(keyword, str):
                if keyword in folded:
                    return True
            elif keyword.search(folded) or keyword.search(text):
                return True
        return False


@functools.cache  # once per configuration, not once per stored batch
def compile_rules(rules: tuple[AlertRule, ...]) -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule.of(rule) for rule in rules if not rule.spike)
