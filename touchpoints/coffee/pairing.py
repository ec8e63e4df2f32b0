"""The pairing itself: pure Python over plain values, deterministic for a seed, fast at 10,000 people.

Working hours are compared on a 24-hour UTC clock for the round's date (each person's own zone and
its daylight-saving offset on that date), so London and New York overlap by four hours in the
weeks between the American and the European clock change and by three otherwise.

People are bucketed by their working window: two buckets are compatible when their windows share at
least the programme's minimum overlap. A greedy pass takes the people with the fewest compatible
candidates first (an Auckland participant before a London one) and gives each the first acceptable
candidate among compatible buckets, preferring another team and someone never met; buckets are
interleaved by team so a candidate from another team is near the front. Nobody is ever paired with
someone met within the repeat window: that rule is only relaxed by leaving a person unpaired, with
the reason. An odd count makes exactly one group of three.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = 24 * 60
# Acceptable candidates looked at per compatible bucket before settling for the best of them.
SCAN = 12

Window = tuple[tuple[int, int], ...]  # minutes of the UTC day, each interval within [0, 1440)


@dataclass(frozen=True)
class Participant:
    """Someone due in this round, as the pairing needs them."""

    id: int
    team_id: int | None
    window: Window


@dataclass
class Pairing:
    """What a round makes: groups of two (one of three when the count is odd) and who is left, why."""

    groups: list[tuple[int, ...]] = field(default_factory=list)
    unpaired: dict[int, str] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        return sum(1 for g in self.groups if len(g) == 2)

    @property
    def trios(self) -> int:
        return sum(1 for g in self.groups if len(g) == 3)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def working_window(round_on: date, timezone: str, start: time, end: time) -> Window:
    """A person's working hours on the round's date as intervals of the UTC day (DST of that date)."""
    zone = _zone(timezone)
    midnight = datetime.combine(round_on, time(0), tzinfo=UTC)
    begin = datetime.combine(round_on, start, tzinfo=zone).astimezone(UTC)
    finish = datetime.combine(round_on, end, tzinfo=zone)
    if end <= start:  # a night shift ends the next day
        finish += timedelta(days=1)
    finish = finish.astimezone(UTC)
    first = int((begin - midnight).total_seconds() // 60)
    length = min(DAY, max(0, int((finish - begin).total_seconds() // 60)))
    if length == 0:
        return ()
    first %= DAY
    last = first + length
    if last <= DAY:
        return ((first, last),)
    return ((0, last - DAY), (first, DAY))


def intersect(a: Window, b: Window) -> Window:
    """The part of the UTC day two windows share."""
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s < e:
                out.append((s, e))
    return tuple(sorted(out))


def overlap_minutes(a: Window, b: Window) -> int:
    """How many minutes of the UTC day two windows share."""
    return sum(e - s for s, e in intersect(a, b))


def longest_stretch(window: Window) -> tuple[int, int] | None:
    """The longest continuous stretch of a window (joined across UTC midnight), as minutes from 0:00 UTC.

    The end may pass 1440 when the stretch runs over midnight.
    """
    if not window:
        return None
    parts = sorted(window)
    if len(parts) > 1 and parts[0][0] == 0 and parts[-1][1] == DAY:
        joined = (parts[-1][0], DAY + parts[0][1])
        parts = [*parts[1:-1], joined]
    return max(parts, key=lambda p: (p[1] - p[0], -p[0]))


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def pair_up(participants: Sequence[Participant], *, seed: int, min_overlap: int,
            blocked: Iterable[tuple[int, int]] = (), met_before: Iterable[tuple[int, int]] = (),
            window_days: int = 90, round_on: date | None = None, first: Iterable[int] = ()) -> Pairing:
    """Pair the participants: deterministic for a seed and the same participants.

    `blocked` are pairs who met within the repeat window (never paired again); `met_before` are pairs
    who met earlier (paired only when nobody new fits); `first` are people the last round left
    unpaired, who choose before anyone else.
    """
    first_set = set(first)
    blocked_set = {_pair_key(a, b) for a, b in blocked}
    met_set = {_pair_key(a, b) for a, b in met_before}
    people = sorted(participants, key=lambda p: p.id)
    rng = random.Random(seed)
    rng.shuffle(people)
    rank = {p.id: i for i, p in enumerate(people)}
    by_id = {p.id: p for p in people}

    # Buckets of identical working windows, each interleaved by team (round robin) in shuffled order.
    buckets: dict[Window, list[int]] = {}
    teams_in: dict[Window, dict[int | None, list[int]]] = defaultdict(dict)
    for p in people:
        teams_in[p.window].setdefault(p.team_id, []).append(p.id)
    for window, teams in teams_in.items():
        queues = list(teams.values())
        interleaved: list[int] = []
        depth = 0
        while len(interleaved) < sum(len(q) for q in queues):
            interleaved.extend(q[depth] for q in queues if depth < len(q))
            depth += 1
        buckets[window] = interleaved
    windows = list(buckets)
    compatible: dict[Window, list[Window]] = {}
    for w in windows:
        fits = [(overlap_minutes(w, other), rank[buckets[other][0]], other) for other in windows]
        compatible[w] = [other for minutes, _, other in sorted(fits, key=lambda f: (-f[0], f[1]))
                         if minutes >= min_overlap]
    degree = {p.id: sum(len(buckets[w]) for w in compatible[p.window]) - (p.window in compatible[p.window])
              for p in people}

    matched: dict[int, int] = {}  # person -> index of their group
    groups: list[list[int]] = []
    pointer = dict.fromkeys(windows, 0)
    leftovers: list[int] = []
    for person in sorted(people, key=lambda p: (p.id not in first_set, degree[p.id], rank[p.id])):
        pid = person.id
        if pid in matched:
            continue
        best, best_score = None, -1
        for w in compatible[person.window]:
            members = buckets[w]
            start = pointer[w]
            while start < len(members) and members[start] in matched:
                start += 1
            pointer[w] = start
            seen = 0
            for index in range(start, len(members)):
                if seen >= SCAN:
                    break
                other = members[index]
                if other == pid or other in matched:
                    continue
                key = _pair_key(pid, other)
                if key in blocked_set:
                    continue
                seen += 1
                score = 2 * (by_id[other].team_id != person.team_id) + (key not in met_set)
                if score > best_score:
                    best, best_score = other, score
                    if score == 3:
                        break
            if best_score == 3:
                break
        if best is None:
            leftovers.append(pid)
            continue
        matched[pid] = matched[best] = len(groups)
        groups.append([pid, best])

    result = Pairing()
    if len(people) % 2 == 1 and leftovers:
        leftovers = _make_one_trio(leftovers, groups, matched, by_id, blocked_set, met_set, min_overlap)
    for pid in leftovers:
        result.unpaired[pid] = _reason(by_id[pid], degree[pid], compatible, buckets, blocked_set,
                                       min_overlap, window_days, round_on)
    result.groups = [tuple(g) for g in groups]
    return result


def _make_one_trio(leftovers: list[int], groups: list[list[int]], matched: dict[int, int],
                   by_id: dict[int, Participant], blocked: set[tuple[int, int]], met: set[tuple[int, int]],
                   min_overlap: int) -> list[int]:
    """Seat one leftover in the best pair whose hours all three share; the others stay left over."""
    for pid in leftovers:
        person = by_id[pid]
        best, best_score = None, -1
        for index, group in enumerate(groups):
            if len(group) != 2:
                continue
            a, b = by_id[group[0]], by_id[group[1]]
            if _pair_key(pid, a.id) in blocked or _pair_key(pid, b.id) in blocked:
                continue
            if overlap_minutes(intersect(person.window, a.window), b.window) < min_overlap:
                continue
            score = 2 * (person.team_id not in (a.team_id, b.team_id)) + \
                (_pair_key(pid, a.id) not in met and _pair_key(pid, b.id) not in met)
            if score > best_score:
                best, best_score = index, score
                if score == 3:
                    break
        if best is not None:
            groups[best].append(pid)
            matched[pid] = best
            return [p for p in leftovers if p != pid]
    return leftovers


def _reason(person: Participant, degree: int, compatible: dict[Window, list[Window]],
            buckets: dict[Window, list[int]], blocked: set[tuple[int, int]], min_overlap: int,
            window_days: int, round_on: date | None) -> str:
    """Why this person was left without a coffee partner, in words they and HR understand."""
    on = f" on {round_on:%a %-d %b}" if round_on else ""
    if degree <= 0:
        return (f"No other participant's working hours overlap theirs by {min_overlap} minutes or "
                f"more{on}; they stay first in line for the next round.")
    candidates = [other for w in compatible[person.window] for other in buckets[w] if other != person.id]
    if candidates and all(_pair_key(person.id, other) in blocked for other in candidates):
        return (f"Everyone whose working hours overlap theirs has met them within the last {window_days} "
                f"days, and nobody is paired twice in that time; they stay first in line next round.")
    return ("Everyone whose working hours overlap theirs was already paired this round (or met them "
            f"within the last {window_days} days); they stay first in line next round.")
