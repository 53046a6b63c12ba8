"""Words that alarm or give away the subject when an inbox list or a notification shows them.

`check` warns when an issue's subject or preheader says one of the alarming words (a reader in
distress sees it before opening anything). Discreet mode goes further: its From name, subject,
List-Id phrase and preheader may say none of them, nor a word that names what the newsletter
is about, nor the newsletter's own name (mail/discreet.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# In an inbox list these read as alarms to someone who may be in distress.
ALARMING = re.compile(r"(?i)\b(suicid\w*|self[- ]?harm\w*|kill\w*|die|dying|death|dead|crisis|"
                      r"emergency|urgent|abuse\w*|assault\w*|overdos\w*|rape\w*|warning|alert)\b")

# What the newsletter is about, as a word that starts with these (attachment, attachments,
# anxious, anxiety, mental, mentally, therapy, therapist): on a shared screen they tell
# whoever looks what the reader is reading.
REVEALING_STEMS = ("attach", "anxi", "mental", "therap")


def word_pattern(stems: Iterable[str], words: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern: any word that starts with a stem, or any of `words`
    wherever it stands (a newsletter's name inside "MindshapeNotes" still gives it away)."""
    alternatives = [rf"\b{re.escape(stem)}\w*" for stem in stems]
    alternatives += [re.escape(word) for word in sorted(set(words), key=len, reverse=True) if word]
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)
