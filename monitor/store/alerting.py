"""Alerting state beside incidents: their distinct posts, per-channel policy state, silences.

Every write here happens inside the caller's transaction (nested calls become savepoints), so
an incident change, its policy state and the outbox rows it causes commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from ..models import Incident
from .db import Connections, dumps, loads
from .incidents import INCIDENT_COLUMNS, row_to_incident
from .timefmt import from_db, to_db


@dataclass
class ChannelState:
    """Where one incident stands with one channel, in event time."""

    incident_id: int
    channel: str
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta | None
    send_resolved: bool
    due_at: datetime  # when the first (trigger) notification is due
    triggered: bool = False  # a trigger was queued for delivery
    notified_at: datetime | None = None  # event time of the last queued notification
    notified_findings: int = 0  # the incident's finding count at that time
    notified_severity: str | None = None
    muted_by: str | None = None  # "silence 3" / "inhibited by incident 7" while a due notification is held
    resolved_sent: bool = False


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[str, ...]  # "label=value", "label!=value", "label=~regex", "label!~regex"
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


_STATE_COLUMNS = ("incident_id, channel, group_wait, group_interval, repeat_interval, send_resolved, due_at, "
                  "triggered, notified_at, notified_findings, notified_severity, muted_by, resolved_sent")
_SILENCE_COLUMNS = "id, matchers, starts_at, ends_at, comment, created_by, created_at, expired_at"


def _seconds(td: timedelta | None) -> int | None:
    return None if td is None else int(td.total_seconds())


def _row_to_state(r: Sequence[Any]) -> ChannelState:
    return ChannelState(incident_id=r[0], channel=r[1], group_wait=timedelta(seconds=r[2]),
                        group_interval=timedelta(seconds=r[3]),
                        repeat_interval=None if r[4] is None else timedelta(seconds=r[4]),
                        send_resolved=bool(r[5]), due_at=from_db(r[6]), triggered=bool(r[7]),
                        notified_at=from_db(r[8]), notified_findings=r[9], notified_severity=r[10],
                        muted_by=r[11], resolved_sent=bool(r[12]))


def _row_to_silence(r: Sequence[Any]) -> Silence:
    return Silence(id=r[0], matchers=tuple(loads(r[1], [])), starts_at=from_db(r[2]), ends_at=from_db(r[3]),
                   comment=r[4], created_by=r[5], created_at=from_db(r[6]), expired_at=from_db(r[7]))


class AlertingMixin:
    _cx: Connections

    # --- the distinct posts of an incident ----------------------------------------------

    def add_incident_posts(self, incident_id: int, post_ids: Sequence[int]) -> list[int]:
        """Link posts to an incident; returns the ones it did not have yet, in input order."""
        new = []
        with self._cx.transaction() as conn:
            for post_id in dict.fromkeys(post_ids):
                cur = conn.execute("INSERT OR IGNORE INTO incident_posts (incident_id, post_id) VALUES (?, ?)",
                                   (incident_id, post_id))
                if cur.rowcount:
                    new.append(post_id)
        return new

    def incident_post_ids(self, incident_id: int, limit: int = 300) -> list[int]:
        """The most recent posts of an incident (by post id, which follows storage order)."""
        rows = self._cx.conn().execute("SELECT post_id FROM incident_posts WHERE incident_id = ? "
                                       "ORDER BY post_id DESC LIMIT ?", (incident_id, limit)).fetchall()
        return [r[0] for r in reversed(rows)]

    def incidents_active_at(self, at: datetime) -> list[Incident]:
        """Incidents that had opened and not yet resolved at event time `at` (inhibition sources)."""
        stamp = to_db(at)
        rows = self._cx.conn().execute(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE first_seen <= ? "
            "AND (state != 'resolved' OR resolved_at > ?) ORDER BY id", (stamp, stamp)).fetchall()
        return [row_to_incident(r) for r in rows]

    # --- per-channel policy state -------------------------------------------------------

    def channel_states(self, incident_id: int) -> list[ChannelState]:
        rows = self._cx.conn().execute(f"SELECT {_STATE_COLUMNS} FROM incident_channels WHERE incident_id = ? "
                                       "ORDER BY id", (incident_id,)).fetchall()
        return [_row_to_state(r) for r in rows]

    def save_channel_state(self, s: ChannelState) -> None:
        with self._cx.transaction() as conn:
            conn.execute(
                f"INSERT INTO incident_channels ({_STATE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (incident_id, channel) DO UPDATE SET group_wait = excluded.group_wait, "
                "group_interval = excluded.group_interval, repeat_interval = excluded.repeat_interval, "
                "send_resolved = excluded.send_resolved, due_at = excluded.due_at, triggered = excluded.triggered, "
                "notified_at = excluded.notified_at, notified_findings = excluded.notified_findings, "
                "notified_severity = excluded.notified_severity, muted_by = excluded.muted_by, "
                "resolved_sent = excluded.resolved_sent",
                (s.incident_id, s.channel, _seconds(s.group_wait), _seconds(s.group_interval),
                 _seconds(s.repeat_interval), int(s.send_resolved), to_db(s.due_at), int(s.triggered),
                 to_db(s.notified_at), s.notified_findings, s.notified_severity, s.muted_by, int(s.resolved_sent)))

    # --- silences -----------------------------------------------------------------------

    def add_silence(self, matchers: Sequence[str], starts_at: datetime, ends_at: datetime, comment: str,
                    created_by: str, now: datetime) -> Silence:
        with self._cx.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO silences (matchers, starts_at, ends_at, comment, created_by, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (dumps(list(matchers)), to_db(starts_at), to_db(ends_at), comment, created_by, to_db(now)))
            silence_id = cur.lastrowid
        return self.get_silence(silence_id)  # type: ignore[return-value]

    def get_silence(self, silence_id: int) -> Silence | None:
        row = self._cx.conn().execute(f"SELECT {_SILENCE_COLUMNS} FROM silences WHERE id = ?",
                                      (silence_id,)).fetchone()
        return _row_to_silence(row) if row else None

    def active_silences(self, at: datetime) -> list[Silence]:
        """Silences in effect at `at` (event time in replay)."""
        stamp = to_db(at)
        rows = self._cx.conn().execute(f"SELECT {_SILENCE_COLUMNS} FROM silences WHERE starts_at <= ? AND ends_at > ? "
                                       "ORDER BY id", (stamp, stamp)).fetchall()
        return [_row_to_silence(r) for r in rows]

    def list_silences(self, now: datetime, include_ended: bool = False) -> list[Silence]:
        """Silences that have not ended by `now` (pending or active), or all of them."""
        sql, params = f"SELECT {_SILENCE_COLUMNS} FROM silences", []
        if not include_ended:
            sql += " WHERE ends_at > ?"
            params.append(to_db(now))
        rows = self._cx.conn().execute(sql + " ORDER BY id", params).fetchall()
        return [_row_to_silence(r) for r in rows]

    def expire_silence(self, silence_id: int, now: datetime) -> bool:
        """End a silence now (it stays listed with --all); False when it does not exist or already ended."""
        with self._cx.transaction() as conn:
            cur = conn.execute("UPDATE silences SET ends_at = min(ends_at, ?), expired_at = ? "
                               "WHERE id = ? AND expired_at IS NULL AND ends_at > ?",
                               (to_db(now), to_db(now), silence_id, to_db(now)))
            return cur.rowcount > 0
