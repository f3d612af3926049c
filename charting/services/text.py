"""Text normalisation for accent- and case-insensitive search."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ``text`` and strip combining accents ("Müller" -> "muller", "Ōno" -> "ono").

    Characters without a decomposition (Chinese, for instance) are kept as they are.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).split())
