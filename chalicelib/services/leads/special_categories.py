"""Special categories of personal data (GDPR art. 9 and India's DPDP sensitive data), refused by name.

A field is refused when any word of its name, or a run of its words, names such data, however
it is spelled (``religion``, ``Religious_Affiliation``, ``bloodGroup``, ``sexual-orientation``).
"""

from __future__ import annotations

import re
import unicodedata

SPECIAL_CATEGORIES = frozenset({
    "health", "religion", "caste", "ethnicity", "race", "sexual_orientation", "sex_life", "biometrics",
    "genetics", "political_opinion", "trade_union", "philosophical_belief", "criminal_record",
})

_WORDS = {
    "health": {"health", "medical", "medicine", "medication", "diagnosis", "disease", "illness", "disability",
               "disabled", "pregnancy", "pregnant", "allergy", "allergies", "symptom", "symptoms", "hiv",
               "blood", "bmi", "prescription", "treatment", "mental", "vaccination", "handicap"},
    "religion": {"religion", "religious", "faith", "church", "mosque", "temple", "worship", "belief", "beliefs",
                 "denomination", "spiritual"},
    "caste": {"caste", "jati", "varna", "subcaste", "gotra"},
    "ethnicity": {"ethnicity", "ethnic", "tribe", "tribal", "ancestry", "nationality_origin"},
    "race": {"race", "racial"},
    "sexual_orientation": {"orientation", "gay", "lesbian", "bisexual", "lgbt", "lgbtq", "homosexual",
                           "heterosexual", "queer"},
    "sex_life": {"sexlife", "sexual", "sexuality"},
    "biometrics": {"biometric", "biometrics", "fingerprint", "fingerprints", "faceprint", "retina", "iris",
                   "voiceprint", "faceid"},
    "genetics": {"genetic", "genetics", "genome", "dna", "gene", "genes"},
    "political_opinion": {"political", "politics", "party_affiliation", "voting"},
    "trade_union": {"tradeunion", "union_membership", "unionmember", "unionmembership"},
    "philosophical_belief": {"philosophy", "philosophical", "ideology"},
    "criminal_record": {"criminal", "conviction", "convictions"},
}
_PHRASES = {"sex_life": {"sex life"}, "trade_union": {"trade union", "union member"},
            "political_opinion": {"party affiliation"},
            "race": {"skin colour", "skin color"}, "sexual_orientation": {"sexual orientation"}}
_LOOKUP = {word: category for category, words in _WORDS.items() for word in words}


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text).lower()
    return [word for word in re.split(r"[^a-z0-9]+", text) if word]


def special_category_of(name: str) -> str | None:
    """The special category a field name denotes, or None."""
    words = _words(name)
    joined = " ".join(words)
    for category, phrases in _PHRASES.items():
        if any(phrase in joined for phrase in phrases):
            return category
    for index, word in enumerate(words):
        if word in _LOOKUP:
            return _LOOKUP[word]
        if index + 1 < len(words) and f"{word}_{words[index + 1]}" in _LOOKUP:
            return _LOOKUP[f"{word}_{words[index + 1]}"]
    if "".join(words) in _LOOKUP:
        return _LOOKUP["".join(words)]
    return None
