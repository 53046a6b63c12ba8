"""Words that alarm or give away the subject when an inbox list or a notification shows them.

`check` warns when an issue's subject or preheader says one of the alarming words (a reader in
distress sees it before opening anything). Discreet mode goes further: its From name, subject,
List-Id phrase and preheader may say none of them, nor a word that names what the newsletter
is about, nor the newsletter's own name (mail/discreet.py).

What a screen shows is not what a regular expression sees: a soft hyphen or a zero-width
joiner inside "Mind\u00adshape" is invisible, fullwidth "MINDSHAPE" (U+FF2D...) reads as
the name, and "mind shape" or "Mind-shape" says it as plainly. Discreet mode's words are matched
on folded text (`fold`: NFKD, casefolded, without format characters, other default-ignorable
code points and combining marks, so "Ánxiety" is "anxiety"), and names also on a squashed
form of it (`squash`: without spaces, dashes, dots and underscores). Look-alike letters of
other scripts (Cyrillic U+0430 for Latin "a") are not folded: Unicode's confusables table would
be needed for that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

# In an inbox list these read as alarms to someone who may be in distress.
ALARMING = re.compile(r"(?i)\b(suicid\w*|self[- ]?harm\w*|kill\w*|die|dying|death|dead|crisis|"
                      r"emergency|urgent|abuse\w*|assault\w*|overdos\w*|rape\w*|warnings?|"
                      r"alert(?:s|ed|ing)?)\b")

# What the newsletter is about: on a shared screen these tell whoever looks what the reader
# is reading. Each stem is decided on its own, by the words that hold it:
# - anywhere in a word, as no everyday word holds them: attach (attachment, nonattachment,
#   unattached), anxi (anxious, anxiety, nonanxious; only the place name Shanxi is a miss),
#   therap (therapy, psychotherapy, physiotherapist), psych (psychology, neuropsychology),
#   trauma (traumatic, posttraumatic), depress (depression, antidepressant);
REVEALING_STEMS = ("attach", "anxi", "therap", "psych", "trauma", "depress")
# - at a word's start only, as common words hold it: mental (mentally, mentalising; not
#   fundamental, environmental, sentimental, incremental, experimental, departmental).
WORD_START_STEMS = ("mental",)

# Invisible without being format characters (category Cf, dropped too): the combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and other variation
# selectors (Unicode's Default_Ignorable_Code_Point, less what NFKD or Cf already covers).
_IGNORABLE = frozenset((0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0,
                        *range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
                        *range(0xE0100, 0xE01F0)))
_DROPPED = frozenset(("Cf", "Mn", "Me"))
# What `squash` leaves out between letters, besides whitespace and dashes (category Pd).
_JOINERS = frozenset("._·•‧∙")


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(c for c in decomposed
                   if unicodedata.category(c) not in _DROPPED and ord(c) not in _IGNORABLE)


def fold(text: str) -> tuple[str, list[int]]:
    """`text` as compared: NFKD, casefolded, without format characters, other invisible code
    points and combining marks; with, for each of its characters, its index in `text` (to
    report a word as it was written)."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for kept in _fold_char(char):
            folded.append(kept)
            origin.append(index)
    return "".join(folded), origin


def squash(folded: str) -> tuple[str, list[int]]:
    """Folded text without spaces, dashes, dots and underscores ("mind shape" and "Mind-shape"
    are "mindshape"), with each character's index in `folded`."""
    kept = [(char, index) for index, char in enumerate(folded)
            if not (char.isspace() or char in _JOINERS or unicodedata.category(char) == "Pd")]
    return "".join(char for char, _ in kept), [index for _, index in kept]


def fold_word(word: str) -> str:
    return fold(word)[0]


def word_pattern(stems: Iterable[str], words: Iterable[str],
                 start_stems: Iterable[str] = ()) -> re.Pattern[str]:
    """One case-insensitive pattern: the whole word around a stem, a word that starts with a
    start stem, or any of `words` wherever it stands (a newsletter's name inside
    "MindshapeNotes" still gives it away). Match folded text with folded stems and words."""
    alternatives = [rf"\w*{re.escape(stem)}\w*" for stem in stems]
    alternatives += [rf"\b{re.escape(stem)}\w*" for stem in start_stems]
    alternatives += [re.escape(word) for word in sorted(set(words), key=len, reverse=True) if word]
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)


def find_revealing(text: str, words: Iterable[str], names: Iterable[str]) -> str | None:
    """The first alarming word, stem word, one of `words` or of `names` that `text` shows,
    as written in `text` (invisible characters and all), or None. `names` are also looked
    for in the squashed text, from the start of a word ("the mind shape notes")."""
    folded, origin = fold(text)

    def written(start: int, end: int) -> str:
        return text[origin[start]:origin[end - 1] + 1]

    found = ALARMING.search(folded)
    if found is None:
        names = [fold_word(name) for name in names]
        found = word_pattern(REVEALING_STEMS, [*map(fold_word, words), *names],
                             WORD_START_STEMS).search(folded)
        if found is None:
            return _squashed_name(folded, names, written)
    return written(found.start(), found.end())


def _squashed_name(folded: str, names: list[str],
                   written: Callable[[int, int], str]) -> str | None:
    squashed, where = squash(folded)
    pattern = word_pattern((), [squash(name)[0] for name in names])
    for start, index in enumerate(where):
        # From a word's start only: "calm indoors" squashed holds "mind" across its words.
        if index == 0 or not folded[index - 1].isalnum():
            found = pattern.match(squashed, start)
            if found:
                return written(index, where[found.end() - 1] + 1)
    return None
