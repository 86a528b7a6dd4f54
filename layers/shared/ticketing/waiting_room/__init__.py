"""The waiting room (docs/waiting-room.md): a fair queue in front of an on-sale, outside Aurora.

- `models`: the answers (a buyer's place, the public room, the organizer's stats) and the states.
- `room_cache`: an event's room settings, read from the catalog at most every few seconds per environment.
- `store`: the queue in DynamoDB (places, the room's state, the buying path's health samples).
- `tokens`: admission tokens, JWS EdDSA, verified from the public key alone.
- `service`: join, poll, the public state, stats, pause and resume.
- `controller`: the tick that deals the pre-queue, gives places and admits at a rate that follows health.
- `admission`: the buying path's check (no database or queue read) and its health sample.
"""
