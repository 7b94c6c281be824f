"""Money as Stripe counts it: whole numbers of a currency's smallest unit (cents), never floats.

``parse`` reads what a founder types ("120", "120.50", "1,200.00") in a currency; ``price``
reads a price as a page shows it ("$49", "€9/month", "19 CHF"); ``text`` writes an amount back
for people with Babel ("$120.50", "€9.00", "¥1,200", "CHF 120.50"; "120,50 €" in German).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal

from babel import Locale

# Currencies without minor units (Stripe's list of zero-decimal currencies).
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())  # Stripe counts these in thousandths
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
CURRENCY_RE = re.compile(r"[A-Za-z]{3}")
# ASCII digits only: int() would read "١٢٠" (Arabic-Indic digits) as 120 without a word.
AMOUNT_RE = re.compile(r"\d{1,3}(,\d{3})*(\.\d+)?|\d+(\.\d+)?", re.ASCII)
MAX_AMOUNT = 2**31 - 1  # what the database column holds, in minor units


class MoneyError(ValueError):
    """An amount or currency a person typed that can't be money; the message says why."""


def currency(code: str) -> str:
    """A three-letter currency code, upper case ("usd" -> "USD")."""
    code = code.strip()
    if not CURRENCY_RE.fullmatch(code):
        raise MoneyError(f"{code!r} is not a currency code: use three letters like USD or EUR")
    return code.upper()


def parse(amount: str, code: str) -> int:
    """ "120.50" USD -> 12050. More decimals than the currency has, a negative or an absurd
    amount is refused, not rounded."""
    amount = amount.strip().lstrip("$€£¥").strip()
    if not AMOUNT_RE.fullmatch(amount):
        raise MoneyError(f"{amount!r} is not an amount: write it like 120 or 120.50")
    whole, _, fraction = amount.replace(",", "").partition(".")
    digits = places(code)
    if len(fraction.rstrip("0")) > digits:
        raise MoneyError(f"{amount} {code} has more decimals than {code} has")
    minor = int(whole) * 10**digits + int((fraction + "00")[:digits] or 0)
    if minor > MAX_AMOUNT:
        raise MoneyError(f"{amount} {code} is more than this kit can count")
    return minor


# A price as pages show it: one amount with a currency symbol or an upper-case code beside it
# ("$49", "49 €", "USD 19", "19.50 CHF"), anything around it ("From $49 for life", "/month").
# "R$ 49" is reais, not dollars: a dollar sign after letters it doesn't know is no currency.
SYMBOL = r"(?<![A-Za-z])(?:US\$|CA\$|C\$|AU\$|A\$|NZ\$|HK\$|S\$|MX\$|R\$|[$€£¥₹])"
PRICE_RE = re.compile(
    rf"(?:(?P<symbol>{SYMBOL})\s*|(?P<before>[A-Z]{{3}})\s+)?(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?)"
    rf"(?:\s*(?P<after_symbol>{SYMBOL})|\s+(?P<after>[A-Z]{{3}})\b)?"
)
CURRENCY_OF = {"$": "USD", "US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD",
               "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "MX$": "MXN", "R$": "BRL", "€": "EUR",
               "£": "GBP", "¥": "JPY", "₹": "INR"}  # fmt: skip
DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")  # "9,99": a decimal comma, not thousands


def price(shown: str) -> tuple[int, str] | None:
    """The one amount a price states, in minor units, with its currency: "$49" -> (4900,
    "USD"), "From €9/month" -> (900, "EUR"), "19.50 CHF" -> (1950, "CHF"), "9,99 €" -> (999,
    "EUR"); None when it states no currency, no amount or two of them ("Free", "49", "49 per
    month", "$9 or $90/year")."""
    found = list(PRICE_RE.finditer(shown))
    if len(found) != 1:
        return None
    match = found[0]
    symbols = (match["symbol"], match["after_symbol"])
    codes = {code for code in (match["before"], match["after"]) if code}
    codes |= {CURRENCY_OF[symbol] for symbol in symbols if symbol}
    if len(codes) != 1:
        return None
    code, amount = codes.pop(), match["amount"]
    if DECIMAL_COMMA.fullmatch(amount):
        amount = amount.replace(",", ".")
    try:
        return parse(amount, code), code
    except MoneyError:
        return None


def text(minor: int | float, code: str, locale: str = "en_US") -> str:
    """12050 USD -> "$120.50" ("120,50 $" in "de"), by Babel with the locale's symbols and
    separators and the currency's digits as Stripe counts them; works for fractions of a unit
    too (a cost per signup)."""
    digits = places(code)
    pattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    value = Decimal(str(minor)).scaleb(-digits)
    return pattern.apply(value, locale, currency=code, currency_digits=False)


def totals_text(amounts: Mapping[str, int]) -> str:
    """Amounts in several currencies: "$120.00 + €30.00"; "–" for none."""
    return " + ".join(text(amount, code) for code, amount in sorted(amounts.items())) or "–"


def plain(amounts: Mapping[str, int]) -> str:
    """For CSV files: "120.00 USD; 30.00 EUR" (no symbols, no thousands separators)."""
    return "; ".join(
        f"{amount / 10 ** places(code):.{places(code)}f} {code}"
        for code, amount in sorted(amounts.items())
    )


def places(code: str) -> int:
    """Digits after the point: 2 for USD, 0 for JPY, 3 for KWD."""
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def add_up(amounts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Amounts per currency added up: [{"USD": 100}, {"USD": 50, "EUR": 9}] -> USD 150, EUR 9."""
    total: dict[str, int] = {}
    for each in amounts:
        for code, amount in each.items():
            total[code] = total.get(code, 0) + amount
    return total
