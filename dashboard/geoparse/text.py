"""Article text: checked once, then cut into sentences and word tokens with character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboard.errors import ValidationError
from dashboard.gazetteer import normalize

MAX_TEXT_BYTES = 1_000_000  # one article; a whole newspaper or a binary file is a mistake, not an article
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\f", "\v"}


def check_text(text: object) -> str:
    """The article text, or ValidationError with one sentence saying what is wrong with it."""
    if isinstance(text, (bytes, bytearray)):
        if b"\x00" in text:
            raise ValidationError("article text", f"{len(text):,} bytes",
                                  "looks like a binary file, not text; paste the article's words")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError("article text", f"{len(text):,} bytes",
                                  "is not UTF-8 text; save the article as UTF-8 and try again") from exc
    if not isinstance(text, str):
        raise ValidationError("article text", type(text).__name__, "must be text (a str)")
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        size = len(text.encode("utf-8", "surrogatepass")) / 1_000_000
        raise ValidationError("article text", f"{size:.1f} MB",
                              f"is longer than {MAX_TEXT_BYTES // 1_000_000} MB; paste one article at a time")
    if not text.strip():
        raise ValidationError("article text", text[:20], "is empty; paste the article's text")
    sample = text[:100_000]
    odd = sum(1 for c in sample if c in _CONTROL or c == "\ufffd")
    if "\x00" in text or odd > 0.05 * len(sample):
        raise ValidationError("article text", "NUL bytes" if "\x00" in text else f"{odd:,} control characters",
                              "looks like a binary file, not text; paste the article's words")
    return text


@dataclass(frozen=True)
class Token:
    """A word of the text; `text` is text[start:end] with a possessive 's already cut off."""

    text: str
    start: int
    end: int
    norm: str
    sentence: int
    first: bool          # first word of its sentence
    possessive: bool     # was followed by 's: "Ukraine's" ends a name here
    shout: bool = False  # in an all-capitals headline or dateline ("KYIV, Ukraine (AP) —"): not an acronym

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()

    @property
    def acronym(self) -> bool:
        return len(self.text) > 1 and self.text.isupper() and not self.shout


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


_WORD = re.compile(r"\w+(?:[-–'’.]\w+)*")
# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace and a capital, digit or quote,
# unless the dot closes an abbreviation; a line break always ends one.
_SENTENCE_END = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])|\n\s*""")
_ABBREVIATIONS = frozenset("""st mr mrs ms dr gen lt col maj capt sgt adm sen rep gov pres prof no vs
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft inc ltd co corp dept est approx e g i
    u s a m p b c d f h j k l n o q r t v w x y z""".split())


def split_sentences(text: str) -> list[Sentence]:
    """Sentence spans of the text, skipping abbreviations such as 'St.', 'Aug.' and 'U.S.'."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        before = text[start:m.start()].rstrip("\"'”’)]")
        last = re.search(r"(\w+)\.$", before)
        if m.group(0)[:1] != "\n" and last and last.group(1).casefold() in _ABBREVIATIONS:
            continue
        if text[start:m.start()].strip():
            spans.append(Sentence(start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append(Sentence(start, len(text.rstrip())))
    return spans


def tokenize(text: str, sentences: list[Sentence]) -> list[Token]:
    """Word tokens with offsets and sentence numbers; 'Kyiv's' becomes 'Kyiv' marked possessive."""
    tokens: list[Token] = []
    for index, sentence in enumerate(sentences):
        first = True
        letters = [c for c in text[sentence.start:sentence.end] if c.isalpha()]
        shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)
        for m in _WORD.finditer(text, sentence.start, sentence.end):
            word, start, end = m.group(0), m.start(), m.end()
            if word.endswith("."):  # "U.S." keeps its dots, a final full stop is punctuation
                word, end = word.rstrip("."), end - (len(word) - len(word.rstrip(".")))
            possessive = False
            if end < len(text) and text[end] in "'’" and (end + 1 >= len(text) or not text[end + 1].isalnum()):
                possessive = True  # "Lithuanians'" or a closing quote: no more name after it
            cut = re.search(r"['’]s$", word)
            if cut and len(word) > 2:
                word, end, possessive = word[:cut.start()], start + cut.start(), True
            dateline = first and word.isupper() and (start == 0 or text[start - 1] == "\n") \
                and text[end:end + 1] == ","
            tokens.append(Token(word, start, end, normalize(word), index, first, possessive, shouting or dateline))
            first = False
    return tokens
