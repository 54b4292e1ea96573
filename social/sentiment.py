"""Sentiment of a review (positive / neutral / negative) from its rating and its words, in French
and English. A small weighted lexicon is enough here: reviews of restaurants use a narrow
vocabulary, and the rating carries most of the signal; the words move a 3-star review or
contradict a rating ("5 stars but the service was awful" stays neutral)."""

import re
import unicodedata

from social.enums import Sentiment

POSITIVE = {
    # French
    "excellent": 2, "excellente": 2, "delicieux": 2, "delicieuse": 2, "parfait": 2, "parfaite": 2,
    "super": 1, "bon": 1, "bonne": 1, "tres bon": 2, "accueillant": 1, "accueillante": 1,
    "chaleureux": 1, "sympa": 1, "agreable": 1, "recommande": 2, "genial": 2, "top": 1,
    "merci": 1, "savoureux": 2, "copieux": 1, "rapide": 1, "impeccable": 2, "bravo": 2,
    # English
    "great": 2, "delicious": 2, "perfect": 2, "lovely": 2, "friendly": 1, "good": 1,
    "amazing": 2, "tasty": 2, "recommend": 2, "excellent service": 2, "nice": 1,
    "fantastic": 2, "wonderful": 2, "best": 2, "fresh": 1, "quick": 1,
}  # fmt: skip

NEGATIVE = {
    # French
    "mauvais": 2, "mauvaise": 2, "decu": 2, "decue": 2, "decevant": 2, "froid": 1, "froide": 1,
    "sale": 2, "lent": 1, "lente": 1, "attente": 1, "cher": 1, "horrible": 3, "nul": 2,
    "immangeable": 3, "impoli": 2, "desagreable": 2, "jamais": 1, "arnaque": 3, "infect": 3,
    "pas bon": 2, "a eviter": 3, "fuyez": 3, "malade": 3,
    # English
    "bad": 2, "awful": 3, "terrible": 3, "disappointed": 2, "disappointing": 2, "cold": 1,
    "dirty": 2, "slow": 1, "rude": 2, "overpriced": 2, "never again": 3, "worst": 3,
    "avoid": 3, "sick": 3, "bland": 1, "waited": 1,
}  # fmt: skip

NEGATIONS = ("pas ", "not ", "no ", "jamais ", "n'", "never ")


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _score(text: str, lexicon: dict[str, int]) -> int:
    total = 0
    for phrase, weight in lexicon.items():
        for match in re.finditer(rf"\b{re.escape(phrase)}\b", text):
            before = text[max(0, match.start() - 8) : match.start()]
            # "pas bon" and "not good" flip; a phrase that itself holds the negation does not.
            negated = any(negation in before for negation in NEGATIONS) and not phrase.startswith(
                ("pas ", "never ")
            )
            total += -weight if negated else weight
    return total


def sentiment_of(*, rating: int | None, text: str) -> Sentiment:
    words = _normalise(text or "")
    lexical = _score(words, POSITIVE) - _score(words, NEGATIVE)
    score = lexical + (2 * (rating - 3) if rating else 0)
    if score >= 2:
        return Sentiment.POSITIVE
    if score <= -2:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL
