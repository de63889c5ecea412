"""Business days in the configured zone: local midnights, day lengths and offset changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from walletrecon.sample.model import CALENDAR_MARGIN, HOUR, STYLE_LOCAL, STYLE_OFFSET, IntArray


@dataclass(frozen=True)
class Calendar:
    """Business days in the configured zone: local midnights and UTC offset changes."""

    zone_name: str
    start: date
    day_starts: IntArray
    transitions: IntArray

    @staticmethod
    def build(zone_name: str, start: date, days: int) -> Calendar:
        """Local midnights from ``start`` for ``days`` nights plus a margin."""
        zone = ZoneInfo(zone_name)
        midnights = [
            int(datetime.combine(start + timedelta(days=index), time(), zone).timestamp())
            for index in range(days + CALENDAR_MARGIN + 1)
        ]
        hours = range(midnights[0] - 24 * HOUR, midnights[-1] + HOUR, HOUR)
        offsets = [datetime.fromtimestamp(instant, zone).utcoffset() for instant in hours]
        transitions = [
            instant
            for instant, before, after in zip(hours[1:], offsets, offsets[1:], strict=False)
            if before != after
        ]
        day_starts = np.array(midnights, dtype=np.int64)
        return Calendar(zone_name, start, day_starts, np.array(transitions, dtype=np.int64))

    def date_of(self, day: int) -> date:
        """The date of a day index."""
        return self.start + timedelta(days=day)

    def length(self, day: int) -> int:
        """Seconds in the local day (23, 24 or 25 hours)."""
        return int(self.day_starts[day + 1] - self.day_starts[day])

    def day_of(self, instants: IntArray) -> IntArray:
        """The local day index of each instant."""
        return (np.searchsorted(self.day_starts, instants, side="right") - 1).astype(np.int64)

    def safe_styles(self, style: IntArray, instants: IntArray) -> IntArray:
        """The styles, with the offset instead of local time near a UTC offset change.

        A local time without offset is ambiguous (or does not exist) around a daylight-saving
        change, so such instants are written with their offset.
        """
        near = np.zeros(len(instants), dtype=np.bool_)
        for transition in self.transitions.tolist():
            near |= np.abs(instants - transition) < 3 * HOUR
        return np.where((style == STYLE_LOCAL) & near, STYLE_OFFSET, style).astype(np.int64)

    def end_of_day_text(self, day: int) -> str:
        """The day's cut-off as ISO 8601 with offset, e.g. ``2026-11-16T23:59:59+08:00``."""
        last_second = int(self.day_starts[day + 1]) - 1
        return datetime.fromtimestamp(last_second, ZoneInfo(self.zone_name)).isoformat()
