"""Text normalisation and removal of the boilerplate that extraction leaves behind.

What is removed (all seen in the seed corpus and in real extractions): repeated title lines, "related
articles" teaser lists and the teaser blocks that close many pages, `<<:`/`>>:` previous/next navigation,
share/print/PR lines, and credit lines (author, editor, photo, source, "no reprint" notices). Line rules
only ever fire on short lines, so a paragraph that merely mentions "編集" survives.
"""

from __future__ import annotations

import re
import unicodedata

from core.text import fold_for_matching

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# windows-1252 bytes that were decoded as Latin-1 show up as C1 controls: map them back ("demoronize").
_C1_AS_CP1252 = {
    code: bytes([code]).decode("cp1252") for code in range(0x80, 0xA0) if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_HSPACE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ELLIPSIS_END = re.compile(r"(\.\.\.|…|‥)\s*[)）」]?$")
_LIST_ITEM = re.compile(r"^\s*[-*•・●▶►■□◆◇]\s*")

_NAV = re.compile(r"^\s*(<<|>>|«|»|前の記事|次の記事|上一篇|下一篇|上一則|下一則|이전 기사|다음 기사)\s*[:：]")
_RELATED_HEADING = re.compile(
    r"^\s*[-*•・]?\s*(関連記事|関連ニュース|関連リンク|関連する記事|おすすめ記事|あわせて読みたい|推薦する|推荐"
    r"|推荐阅读|相关阅读|相关文章|相关新闻|相关推荐|猜你喜欢|延伸阅读|延伸閱讀|相關文章|相關新聞|推薦閱讀"
    r"|related( articles| stories| posts| news| content)?|read more|read next|more stories|more from .{1,40}"
    r"|you may also like|recommended( for you)?|관련\s?기사|추천\s?기사|많이 본 뉴스)\s*[:：]?\s*$",
    re.IGNORECASE,
)
_SHARE_TOKENS = (
    r"share|tweet|email|print|facebook|twitter|x|line|linkedin|whatsapp|pinterest|reddit|weibo|wechat|シェア"
    r"|ツイート|いいね|印刷|はてなブックマーク|ブックマーク|送る|分享|分享到|转发|轉發|微博|微信|打印|列印|收藏|点赞"
    r"|공유|좋아요|스크랩|인쇄|보내기"
)
_SHARE_LINE = re.compile(rf"^(\s*({_SHARE_TOKENS})\s*[|/・,、:：]?)+\s*$", re.IGNORECASE)
_PR_LINE = re.compile(
    r"^\s*[【\[(（]?\s*(PR|AD|広告|スポンサー|sponsored|advertisement|推广|廣告|광고)\s*[】\])）]?\s*[:：]?",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(
    r"^\s*[※*（(]?\s*(著者|作者|筆者|编辑|編集|編集者|责任编辑|責任編輯|责编|記者|记者|撰文|撰稿|文|图|圖|写真|撮影|摄影|攝影"
    r"|来源|來源|出典|原标题|原標題|オリジナルタイトル|キーワード|关键词|關鍵詞|标签|標籤|タグ|表紙画像|本文中の画像"
    r"|インターフェースニュース記者|インターフェースニュース編集者|報告/フィードバック|举报|檢舉"
    r"|source|photo|image|credit|credits|keywords?|tags?|by|written by|edited by|기자|편집|출처|사진)"
    r"(\s*[:：|｜/]|\s*$|.{0,40}(から|より|引用|提供|転載|ライセンス))",
    re.IGNORECASE,
)
_NOTICE_LINE = re.compile(
    r"(無断転載|禁止转载|未经授权|未經授權|转载请|轉載請|版权所有|版權所有|all rights reserved|copyright|©"
    r"|무단\s?전재|재배포 금지|オリジナル記事です|から引用したもの)",
    re.IGNORECASE,
)
_CREDIT_TAIL = re.compile(r"\s(著者|作者|编辑|編集者|责任编辑|責任編輯|记者|記者|来源|來源|出典)\s*[|｜:：]")
_SHORT_LINE = 120
_TEASER_TITLE = 100
_TAIL_WINDOW = 400


def normalize_text(text: str) -> str:
    """NFC, no control or invisible characters, single spaces, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").translate(_C1_AS_CP1252))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text))
    lines = [_HSPACE.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _is_junk_line(line: str) -> bool:
    if _NAV.match(line):
        return True
    if len(line) > _SHORT_LINE:
        return False
    return bool(
        _SHARE_LINE.match(line) or _PR_LINE.match(line) or _CREDIT_LINE.match(line) or _NOTICE_LINE.search(line)
    )


def _is_teaser(line: str) -> bool:
    return bool(_ELLIPSIS_END.search(line) or _LIST_ITEM.match(line) or len(line) <= _TEASER_TITLE)


def _drop_related_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_block = False
    for line in lines:
        if _RELATED_HEADING.match(line):
            in_block = True
            continue
        if in_block and (not line or _is_teaser(line)):
            continue
        in_block = False
        out.append(line)
    return out


def _drop_trailing_teasers(lines: list[str]) -> list[str]:
    """A page that ends in >= 2 'title / snippet...' pairs ends in a teaser list, heading or not."""
    cut = len(lines)
    ellipses = 0
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line or (_ELLIPSIS_END.search(line)) or len(line) <= _TEASER_TITLE:
            ellipses += 1 if line and _ELLIPSIS_END.search(line) else 0
            cut = index
            continue
        break
    return lines[:cut] if ellipses >= 2 else lines


def _drop_repeats(lines: list[str], titles: tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    title_keys = {fold_for_matching(title).strip() for title in titles} - {""}
    out: list[str] = []
    for line in lines:
        key = fold_for_matching(line).strip()
        if key and (key in title_keys or (len(key) >= 10 and key in seen)):
            continue
        seen.add(key)
        out.append(line)
    return out


def _strip_credit_tail(text: str) -> str:
    """Credits run into the last paragraph when a page has no line breaks ('… 著者 | X 編集者 | Y …')."""
    window_start = max(0, len(text) - _TAIL_WINDOW)
    match = _CREDIT_TAIL.search(text, window_start)
    return text[: match.start()].rstrip() if match else text


def clean_text(text: str, *titles: str) -> str:
    """Normalised article body without boilerplate lines; lines repeating one of `titles` (the feed's and
    the page's headline) are dropped."""
    lines = normalize_text(text).split("\n")
    lines = [line for line in lines if not _is_junk_line(line)]
    lines = _drop_related_blocks(lines)
    lines = _drop_trailing_teasers(lines)
    lines = _drop_repeats(lines, titles)
    return _strip_credit_tail(normalize_text("\n".join(lines)))
