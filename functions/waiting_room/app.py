"""WaitingRoomFunction: /api/events/{id}/queue* (join, poll, the public state, stats, pause and resume).

Joining and polling read the queue in DynamoDB and, for the event's room settings, a per-environment cache
(ticketing.waiting_room.room_cache): no other database read and no database write (docs/waiting-room.md).
"""

# Annotations stay real objects (no `from __future__ import annotations`): Powertools reads the handlers'
# type hints on every request (see functions/bookings/app.py).

from uuid import UUID

from aws_lambda_powertools.event_handler import Response, content_types

from ticketing.http.caching import edge_cached
from ticketing.http.limits import BuyingCaller
from ticketing.http.operations import answers
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser, OrganizerOrAdmin
from ticketing.http.tags import ApiTag
from ticketing.snapstart import warm_before_snapshot
from ticketing.waiting_room import service, tokens
from ticketing.waiting_room.models import Place, RoomStats, RoomView

app = create_resolver(tag=ApiTag.WAITING_ROOM)

_UNAVAILABLE = {503: ["WAITING_ROOM_UNAVAILABLE"]}


@app.post("/api/events/<event_id>/queue", summary="Join the event's waiting room (201 the first time, 200 after)")
@answers(
    Place,
    status=201,
    errors={
        404: ["NOT_FOUND"],
        409: ["QUEUE_NOT_OPEN", "QUEUE_CLOSED", "NO_WAITING_ROOM"],
        **_UNAVAILABLE,
    },
)
def join_queue(event_id: UUID, caller: BuyingCaller) -> Response[Place]:
    """One place per account and event: joining again, from any number of tabs, answers the same place (200).
    Those who join before the sale starts are shuffled into a random order at the start; later joiners are
    served in the order they joined."""
    place, created = service.join(caller, event_id)
    return Response(201 if created else 200, content_types.APPLICATION_JSON, place)


@app.get("/api/events/<event_id>/queue/me", summary="The caller's place: state, people ahead, when to ask again")
@answers(Place, errors={404: ["NOT_FOUND"], 409: ["NO_WAITING_ROOM"], **_UNAVAILABLE})
def my_place(event_id: UUID, caller: CurrentUser) -> Place:
    """Once ADMITTED, `admission.token` goes into X-Admission-Token on hold-seats, hold-best and
    bookings/create until `admission.expiresAt`. Ask again after `pollAfterSeconds`."""
    return service.my_place(caller, event_id)


@app.get("/api/events/<event_id>/queue", summary="The room's public state (the same for everyone; cacheable)")
@edge_cached(max_age=service.public_max_age_seconds(), stale_while_revalidate=service.public_max_age_seconds())
@answers(
    RoomView,
    errors={404: ["NOT_FOUND"], 409: ["NO_WAITING_ROOM"], **_UNAVAILABLE},
    headers={"Cache-Control": "public, max-age=<half a tick>, stale-while-revalidate=<half a tick>"},
)
def public_room(event_id: UUID) -> RoomView:
    """Public, the same answer for every caller, so a CDN can serve the crowd (docs/caching.md): at most half a
    tick old, or a whole tick while it revalidates."""
    return service.public_room(event_id)


@app.get("/api/events/<event_id>/queue/stats", summary="The room's figures (its organizer or an ADMIN)")
@answers(RoomStats, errors={404: ["NOT_FOUND"], 409: ["NO_WAITING_ROOM"], **_UNAVAILABLE})
def room_stats(event_id: UUID, caller: OrganizerOrAdmin) -> RoomStats:
    """Waiting, admitted, active sessions, bought, abandoned, the admission rate now and the waits' p50/p95."""
    return service.stats(caller, event_id)


@app.post("/api/events/<event_id>/queue/pause", summary="Stop admitting (its organizer or an ADMIN)")
@answers(RoomView, errors={404: ["NOT_FOUND"], 409: ["NO_WAITING_ROOM"], **_UNAVAILABLE})
def pause_room(event_id: UUID, caller: OrganizerOrAdmin) -> RoomView:
    """Nobody new is admitted until resumed; admitted buyers keep their sessions; joining goes on."""
    return service.set_paused(caller, event_id, paused=True)


@app.post("/api/events/<event_id>/queue/resume", summary="Admit again (its organizer or an ADMIN)")
@answers(RoomView, errors={404: ["NOT_FOUND"], 409: ["NO_WAITING_ROOM"], **_UNAVAILABLE})
def resume_room(event_id: UUID, caller: OrganizerOrAdmin) -> RoomView:
    """Admission resumes at the next tick."""
    return service.set_paused(caller, event_id, paused=False)


lambda_handler = lambda_entrypoint(app)
# Under SnapStart the snapshot holds cryptography and the key ring loaded (docs/deploy.md, cold starts).
warm_before_snapshot(tokens.warm_up)
