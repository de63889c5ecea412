"""Creation dates of the Adyen settlement details report, read in their TimeZone column.

Adyen writes the abbreviation in force at the time (``PST`` in winter, ``PDT`` in summer, ``CET``
or ``CEST``), so an abbreviation is a FIXED offset here: ``CET`` is always +01:00 even in July.
Ambiguous abbreviations (``CST``: US Central or China; ``IST``: India, Ireland or Israel) are not
guessed. ``GMT+2``/``UTC-05:30`` are fixed offsets. Any other name must be an IANA zone
(``Europe/Amsterdam``), read with its daylight-saving rules; a local time that does not exist or
exists twice in that zone is rejected, as is a name that is neither.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

import polars as pl

#: Abbreviation -> fixed UTC offset.
ABBREVIATIONS: dict[str, str] = {
    "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00", "WET": "+00:00", "WEST": "+01:00",
    "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00", "MET": "+01:00", "MEST": "+02:00",
    "EET": "+02:00", "EEST": "+03:00", "MSK": "+03:00", "EST": "-05:00", "EDT": "-04:00",
    "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
    "AKST": "-09:00", "AKDT": "-08:00", "HST": "-10:00", "BRT": "-03:00", "JST": "+09:00",
    "KST": "+09:00", "HKT": "+08:00", "SGT": "+08:00", "AWST": "+08:00", "AEST": "+10:00",
    "AEDT": "+11:00", "NZST": "+12:00", "NZDT": "+13:00",
}  # fmt: skip
#: Abbreviations several zones use: never guessed, and said so.
AMBIGUOUS: dict[str, str] = {
    "CST": "US Central or China Standard Time: America/Chicago or Asia/Shanghai",
    "IST": "India, Ireland or Israel: Asia/Kolkata, Europe/Dublin or Asia/Jerusalem",
}
_OFFSET = re.compile(r"^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$")
_LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


@lru_cache(maxsize=1)
def _iana() -> frozenset[str]:
    return frozenset(available_timezones())


def fixed_offset(zone: str) -> str | None:
    """The fixed ``+HH:MM`` offset a zone text stands for, or None when it is not one."""
    if zone.upper() in ABBREVIATIONS:
        return ABBREVIATIONS[zone.upper()]
    match = _OFFSET.match(zone.upper())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes or 0) > 59:
        return None
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def is_known_zone(zone: str) -> bool:
    """True when a TimeZone text is an abbreviation, a GMT/UTC offset or an IANA name."""
    return fixed_offset(zone) is not None or zone in _iana()


def local_time(date_column: str) -> pl.Expr:
    """The Creation Date as a naive datetime; null when it is not ``YYYY-MM-DD HH:MM:SS``."""
    return pl.col(date_column).str.strptime(pl.Datetime("us"), _LOCAL_FORMAT, strict=False)


def iso_timestamps(date_column: str, zone_column: str, zones: list[str]) -> pl.Expr:
    """ISO 8601 text with offset for each row; null when the date or zone cannot be read.

    ``zones`` are the distinct zone texts of the file: one expression per zone, not per row."""
    local = local_time(date_column)
    stamp = local.dt.to_string("%Y-%m-%dT%H:%M:%S")
    result: pl.Expr = pl.lit(None, dtype=pl.String)
    for zone in zones:
        offset = fixed_offset(zone)
        if offset is not None:
            value = stamp + pl.lit(offset)
        elif zone in _iana():
            value = local.dt.replace_time_zone(
                zone, ambiguous="null", non_existent="null"
            ).dt.to_string("%Y-%m-%dT%H:%M:%S%:z")
        else:
            continue
        result = pl.when(pl.col(zone_column) == zone).then(value).otherwise(result)
    return result
