"""Who is admitted, from two watermarks (docs/waiting-room.md), and how the controller moves them.

- A pre-queue joiner (joined before the sale started) drew a uniformly random key in [0, 1) when it joined;
  it is admitted once its key is below `pre_queue_below`. Raising that threshold over the ticks deals the
  pre-queue in the keys' order: a uniform shuffle, dealt gradually.
- Everyone else is admitted once the moment it joined is before `line_before_us`: first come, first served,
  exactly, since the join time is the place's own and the watermark only moves forward. The line starts
  moving once the whole pre-queue is admitted.

To admit N people, the controller walks the arrival counters (how many keys fell in each of PRE_BUCKETS
slices, how many joined in each second) and puts the watermark where N more are below it, interpolating
inside a bucket (arrivals in one bucket are taken as spread evenly over it: exact for the shuffle's keys,
close for a second of joins). The counts steer how far a watermark moves; they never decide who is in.
"""

from __future__ import annotations

from collections.abc import Iterator

from ticketing.waiting_room.store import PRE_BUCKETS, PlaceItem, RoomControl, RoomPublic, pre_bucket

MICROS = 1_000_000
# The line's counted seconds kept in the room item (older ones only once admitted): 30 minutes of joins.
MAX_MARKS = 1800


def is_admitted(public: RoomPublic, place: PlaceItem) -> bool:
    if place.pre_queue_key is not None:
        return public.dealt and place.pre_queue_key < public.pre_queue_below
    return place.joined_us < public.line_before_us


def position_of(public: RoomPublic, place: PlaceItem) -> int | None:
    """The place's position (1 is served first), from the counts; None until its arrival is counted."""
    if place.pre_queue_key is not None:
        if not public.dealt:
            return None
        bucket = pre_bucket(place.pre_queue_key)
        inside = place.pre_queue_key * PRE_BUCKETS - bucket
        return sum(public.pre_buckets[:bucket]) + int(inside * public.pre_buckets[bucket]) + 1
    second, inside_us = divmod(place.joined_us, MICROS)
    for marked, before, count in reversed(public.line_marks):
        if marked == second:
            return public.pre_total + before + int(inside_us / MICROS * count) + 1
        if marked < second:
            break
    return None


def deal(public: RoomPublic, pre_buckets: list[int]) -> None:
    """The sale has started: the pre-queue's counts are final; its keys are dealt from the lowest."""
    public.dealt = True
    public.pre_buckets = pre_buckets
    public.pre_queue_below = 0.0 if sum(pre_buckets) else 1.0


def count_line(public: RoomPublic, control: RoomControl, counts: dict[int, int], through_second: int) -> None:
    """Adds the line's arrivals of the seconds up to `through_second` (counted once, in order)."""
    for second in sorted(counts):
        public.line_marks.append([second, public.line_counted, counts[second]])
        public.line_counted += counts[second]
    control.line_counted_through = max(control.line_counted_through, through_second)
    stale = len(public.line_marks) - MAX_MARKS
    while stale > 0 and public.line_marks[0][0] * MICROS < public.line_before_us:
        public.line_marks.pop(0)
        stale -= 1


def admit(public: RoomPublic, control: RoomControl, wanted: int) -> Iterator[tuple[float | None, int]]:
    """Moves the watermarks so that about `wanted` more people are below them: the pre-queue first, then the
    line. Yields (the moment the admitted joined, or None for the pre-queue; how many) per step taken."""
    left = wanted
    while left > 0 and public.dealt and public.pre_queue_below < 1.0:
        bucket = control.pre_bucket
        count = public.pre_buckets[bucket]
        taken = min(left, count - control.pre_given_in_bucket)
        control.pre_given_in_bucket += taken
        left -= taken
        if control.pre_given_in_bucket >= count:
            control.pre_bucket, control.pre_given_in_bucket = bucket + 1, 0
            public.pre_queue_below = 1.0 if bucket + 1 == PRE_BUCKETS else (bucket + 1) / PRE_BUCKETS
        else:
            public.pre_queue_below = (bucket + control.pre_given_in_bucket / count) / PRE_BUCKETS
        if taken:
            yield None, taken
    if not public.dealt or public.pre_queue_below < 1.0:
        return
    for second, _, count in public.line_marks:
        if left == 0:
            break
        if second < control.line_second:
            continue
        if second > control.line_second:
            control.line_second, control.line_given_in_second = second, 0
        taken = min(left, count - control.line_given_in_second)
        control.line_given_in_second += taken
        left -= taken
        if control.line_given_in_second >= count:
            control.line_second, control.line_given_in_second = second + 1, 0
            public.line_before_us = (second + 1) * MICROS
        else:
            public.line_before_us = second * MICROS + MICROS * control.line_given_in_second // count
        if taken:
            yield second + 0.5, taken
    if left > 0:
        # Everyone counted is in: so is anyone whose count was lost in a second already counted.
        public.line_before_us = max(public.line_before_us, (control.line_counted_through + 1) * MICROS)
        control.line_second = max(control.line_second, control.line_counted_through + 1)
