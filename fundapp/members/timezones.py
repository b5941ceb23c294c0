"""The timezone of a member city: where its focal points read their deadlines by default.

A country with one zone (CLDR's list, through Babel) gives it; a country with several gives the
zone of most of its member cities, and the few cities elsewhere in such a country are named.
Staff can change a member's zone on its page, and each person can change their own.
"""

from functools import cache

from babel.core import get_global

# Countries with several zones: the zone of their capital or of most of their member cities.
COUNTRY_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}

# Member cities in such a country whose clock is not the country's usual one.
CITY_ZONES = {
    ("AR", "córdoba"): "America/Argentina/Cordoba",
    ("AR", "mendoza"): "America/Argentina/Mendoza",
    ("AR", "rosario"): "America/Argentina/Cordoba",
    ("BR", "belém do pará"): "America/Belem",
    ("ID", "makassar"): "Asia/Makassar",
    ("MX", "tijuana"): "America/Tijuana",
}


@cache
def _territory_zones():
    return get_global("territory_zones")


def zone_for(country, name=""):
    """The zone of a city in `country` (ISO code), or None when the country is unknown."""
    country = (country or "").upper()
    named = CITY_ZONES.get((country, (name or "").strip().lower()))
    if named:
        return named
    if country in COUNTRY_ZONES:
        return COUNTRY_ZONES[country]
    zones = _territory_zones().get(country) or []
    return zones[0] if len(zones) == 1 else None
