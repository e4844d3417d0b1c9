"""The data's value sets as the API accepts them, and as the OpenAPI document lists them.

A province is accepted as the data spells it, or in any letter case with or without accents
(`Coruña, a`, `CORUNA, A`, `Ávila`); a country as its ISO 3166-1 alpha-2 code in any case.
Each of these spellings is described exactly by a pattern of the document, and the checks
here accept exactly what the pattern matches (a test holds them to it), without compiling
it: the pattern is long, and compiling it would cost every cold start.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from bankreco.catalog import COUNTRIES, PRODUCT_CODES, PRODUCTS, PROVINCES, canonical_province

#: The characters that may stand for each letter of a province name: either case, and the
#: accented vowels, ü and ñ that Spanish spellings of the names use.
_VARIANTS: Final = {
    "A": "AaÁá",
    "E": "EeÉé",
    "I": "IiÍí",
    "O": "OoÓó",
    "U": "UuÚúÜü",
    "N": "NnÑñ",
    "Ñ": "NnÑñ",
}


def _spellings(char: str) -> str:
    if char in _VARIANTS:
        return _VARIANTS[char]
    return f"{char}{char.lower()}" if char.isalpha() else char


_ALLOWED: Final = {char: frozenset(_spellings(char)) for name in PROVINCES for char in name}


@lru_cache(maxsize=4096)
def province(value: str) -> str | None:
    """The data's spelling of `value`, if `value` is one of the accepted spellings."""
    if value in PROVINCES:
        return value
    name = canonical_province(value)
    if name is None or len(name) != len(value):
        return None
    return name if all(c in _ALLOWED[n] for c, n in zip(value, name, strict=True)) else None


def country(value: str) -> str | None:
    """The ISO code `value` is, in upper case, if it is one in any case."""
    code = value.upper()
    return code if len(value) == 2 and value.isascii() and code in COUNTRIES else None


def _class(chars: str) -> str:
    return f"[{chars}]" if len(chars) > 1 else chars


def province_pattern() -> str:
    """The document's pattern of every accepted province spelling."""
    names = ("".join(_class(_spellings(c)) for c in name) for name in sorted(PROVINCES))
    return f"^(?:{'|'.join(names)})$"


def country_pattern() -> str:
    """The document's pattern of every ISO code, in any case, grouped by first letter."""
    seconds: dict[str, list[str]] = {}
    for code in sorted(COUNTRIES):
        seconds.setdefault(code[0], []).append(code[1])
    groups = (
        f"[{first}{first.lower()}][{''.join(c + c.lower() for c in rest)}]"
        for first, rest in seconds.items()
    )
    return f"^(?:{'|'.join(groups)})$"


def _named(title: str, values: list[str], description: str) -> dict[str, Any]:
    return {"title": title, "type": "string", "enum": values, "description": description}


def province_enum() -> dict[str, Any]:
    return _named("Province", sorted(PROVINCES), "The 52 province names as the data spells them.")


def country_enum() -> dict[str, Any]:
    return _named("Country", sorted(COUNTRIES), "ISO 3166-1 alpha-2 country codes.")


def product_enum() -> dict[str, Any]:
    names = ", ".join(f"`{code}` {name}" for code, name in PRODUCTS.items())
    return _named("ProductCode", list(PRODUCT_CODES), f"The data's 24 products: {names}.")


def province_schema() -> dict[str, Any]:
    """A province: as the data spells it, or another accepted spelling."""
    return {"anyOf": [province_enum(), {"type": "string", "pattern": province_pattern()}]}


def country_schema() -> dict[str, Any]:
    """A country: its code in upper case, or in any case."""
    return {"anyOf": [country_enum(), {"type": "string", "pattern": country_pattern()}]}


def products_schema() -> dict[str, Any]:
    """A list of product codes, or null."""
    products = {"type": "array", "items": product_enum(), "maxItems": len(PRODUCT_CODES)}
    return {"anyOf": [products, {"type": "null"}]}


#: The value sets the document names as schemas of their own, each where it is first used.
NAMED: Final = (province_enum, country_enum, product_enum)
