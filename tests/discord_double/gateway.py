"""The fake gateway: HELLO, IDENTIFY/READY, GUILD_CREATE, heartbeats, RESUME, dispatches."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads
from .sharding import UNSHARDED, IdentifyLimiter, Shard, covers, parse_shard

if TYPE_CHECKING:
    from .server import DiscordDouble
    from .state import Guild

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
# A round trip to Discord's gateway from a well-placed host.
ACK_ROUND_TRIP_S = 0.03

GUILD_MEMBERS = 1 << 1  # privileged
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15


@dataclass
class GatewaySession:
    """One identified session; survives socket drops so it can be resumed."""

    session_id: str
    intents: int
    seq: int = 0
    # (seq, frame) of every dispatch, for replay on RESUME
    backlog: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    resumes: int = 0
    shard: Shard = UNSHARDED
    # the order sessions identified in: of two sessions of one shard, the later one serves it
    order: int = 0

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send (or queue for resume) a DISPATCH frame."""
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append((self.seq, frame))
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_str(json.dumps(frame))


class Gateway:
    """Serves the gateway websocket (text JSON frames, no compression)."""

    def __init__(
        self,
        double: DiscordDouble,
        *,
        heartbeat_interval_ms: int = 41_250,
        limiter: IdentifyLimiter | None = None,
    ) -> None:
        self.double = double
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        # the session serving each shard: the last one identified for it
        self.by_shard: dict[Shard, GatewaySession] = {}
        self.current: GatewaySession | None = None
        self.limiter = limiter or IdentifyLimiter()
        # Discord's 2,500 servers a session may hold (None: no limit); past it, an IDENTIFY is
        # closed with 4011 (sharding required)
        self.max_guilds_per_session: int | None = None
        self.identifies = 0
        self.connections = 0
        self.heartbeats = 0
        self._ready = asyncio.Event()
        self._acks: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint."""
        # discord.py asks for ?compress=zlib-stream; text frames are accepted regardless.
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        await self._send(ws, HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
        session: GatewaySession | None = None
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            session = await self._on_frame(ws, frame, session) or session
        if session is not None and session.ws is ws:
            session.ws = None
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, frame: dict[str, Any], session: GatewaySession | None
    ) -> GatewaySession | None:
        op = frame.get("op")
        data: dict[str, Any] = frame["d"] if isinstance(frame.get("d"), dict) else {}
        if op == HEARTBEAT:
            self.heartbeats += 1
            ack = asyncio.create_task(self._ack_later(ws))
            self._acks.add(ack)
            ack.add_done_callback(self._acks.discard)
        elif op == IDENTIFY:
            return await self._identify(ws, data)
        elif op == RESUME:
            return await self._resume(ws, data)
        elif op == REQUEST_MEMBERS and session is not None:
            await self._members_chunk(session, data)
        return None

    async def _identify(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        if data.get("token") != self.double.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard = parse_shard(data.get("shard"))
        if shard is None:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        limit = self.max_guilds_per_session
        if limit is not None and len(self._guilds_of(shard)) > limit:
            await ws.close(code=4011, message=b"Sharding required.")
            return None
        if not self.limiter.admit(shard):
            await self._send(ws, INVALID_SESSION, False)
            return None
        self.identifies += 1
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=data.get("intents", 0),
            shard=shard,
            order=self.identifies,
        )
        session.ws = ws
        self.sessions[session.session_id] = session
        self.by_shard[shard] = session
        self.current = session
        await session.dispatch("READY", self._ready_payload(session))
        for guild in self._guilds_of(shard):
            await session.dispatch(
                "GUILD_CREATE", payloads.guild(self.double.world, guild, full=True)
            )
        session.identified.set()
        self._ready.set()
        return session

    def _guilds_of(self, shard: Shard) -> list[Guild]:
        """The servers of ``shard`` that the bot is in (READY and GUILD_CREATE name no other)."""
        bot = self.double.world.bot_user.id
        return [
            g for g in self.double.world.guilds.values() if covers(shard, g.id) and bot in g.members
        ]

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        world = self.double.world
        return {
            "v": 10,
            "user": payloads.user(world.bot_user),
            "guilds": [
                {"id": str(g.id), "unavailable": True} for g in self._guilds_of(session.shard)
            ],
            "session_id": session.session_id,
            "resume_gateway_url": self.double.gateway_url,
            "session_type": "normal",
            "shard": list(session.shard),
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }

    async def _resume(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.double.token:
            await self._send(ws, INVALID_SESSION, False)
            return None
        session.ws = ws
        session.resumes += 1
        self.current = session
        last = data.get("seq") or 0
        for seq, frame in session.backlog:
            if seq > last:
                await ws.send_str(json.dumps(frame))
        await session.dispatch("RESUMED", {})
        return session

    async def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.double.world.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        chunk = {
            "guild_id": str(guild.id),
            "members": [payloads.member(self.double.world, m) for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    @staticmethod
    async def _ack_later(ws: web.WebSocketResponse) -> None:
        """Acknowledge a heartbeat a network's round trip later, as Discord does. Answered at
        once over loopback, the ack can reach discord.py before its heartbeat thread (waiting
        for the interpreter while the loop is busy) has stamped the beat as sent: it measures
        the ack against the beat before and warns "Can't keep up ... 41.3s behind"."""
        await asyncio.sleep(ACK_ROUND_TRIP_S)
        if not ws.closed:
            await Gateway._send(ws, HEARTBEAT_ACK, None)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, op: int, data: Any) -> None:
        await ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    # -- test-facing controls -----------------------------------------------------------

    async def wait_identified(self, timeout_s: float = 5.0) -> GatewaySession:
        """Wait until a client identified (and got its READY + GUILD_CREATEs)."""
        await asyncio.wait_for(self._ready.wait(), timeout_s)
        assert self.current is not None
        return self.current

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session that receives ``guild_id``'s events (None: a DM's, shard 0's)."""
        serving = [s for shard, s in self.by_shard.items() if covers(shard, guild_id)]
        return max(serving, key=lambda s: s.order, default=None)

    async def dispatch(self, event: str, data: dict[str, Any]) -> GatewaySession:
        """Dispatch an event to the session of the shard its server is on (``data``'s
        ``guild_id``; shard 0 for none), queued for RESUME if disconnected; that session."""
        guild_id = data.get("guild_id")
        session = self.session_for(int(guild_id) if guild_id else None)
        if session is None:
            raise RuntimeError(f"no client has identified on the shard of guild {guild_id}")
        await session.dispatch(event, data)
        return session

    def wants(self, intent: int, guild_id: int | None = None) -> bool:
        """Whether the session of ``guild_id``'s shard subscribed to ``intent``."""
        session = self.session_for(guild_id)
        return session is not None and bool(session.intents & intent)

    async def force_close(self, code: int = 4000) -> None:
        """Drop the current socket (a resumable close code by default)."""
        if self.current is not None and self.current.ws is not None:
            await self.current.ws.close(code=code, message=b"closed by the double")

    async def send_reconnect(self) -> None:
        """Ask the client to reconnect (op 7)."""
        if self.current is not None and self.current.ws is not None:
            await self._send(self.current.ws, RECONNECT, None)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; non-resumable sessions are forgotten."""
        session = self.current
        if session is None or session.ws is None:
            return
        if not resumable:
            self.sessions.pop(session.session_id, None)
            if self.by_shard.get(session.shard) is session:
                del self.by_shard[session.shard]
        await self._send(session.ws, INVALID_SESSION, resumable)

    async def close_all(self) -> None:
        """Close every open socket (server shutdown)."""
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001)
