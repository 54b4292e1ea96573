"""Text normalisation for search: case- and accent-insensitive, with * and ? wildcards."""

import unicodedata


def normalize_search(value: str) -> str:
    """Lower case without accents or repeated spaces: "Café  de la Gare" -> "cafe de la gare"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def wildcard_to_like(query: str) -> str:
    """A LIKE pattern for a user's query: `*` any run, `?` one character; LIKE's own signs escaped.

    Without a wildcard the query matches anywhere in the text ("gare" finds "Café de la Gare").
    """
    text = normalize_search(query)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped.replace("*", "%").replace("?", "_")
    if "*" not in text and "?" not in text:
        pattern = f"%{pattern}%"
    return pattern
