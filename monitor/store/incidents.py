"""Incidents and the notification outbox.

The outbox row for a notification is written in the same transaction as the incident change
that caused it, so a crash can lose neither. Delivery claims due rows with a lease: a worker
that dies mid-send leaves a row whose lease expires and is claimed again (receivers dedupe on
the notification's dedup_key, so a resend after a crash never pages twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from ..models import DeliveryStatus, Incident, IncidentState, Notification, NotificationKind, Severity
from .db import Connections, dumps, loads
from .timefmt import from_db, to_db

INCIDENT_COLUMNS = ("id, key, rule_id, grp, state, severity, title, first_seen, last_seen, finding_count, "
                    "post_count, summary, sample_post_ids, opened_at, acknowledged_at, resolved_at, refs")
OUTBOX_COLUMNS = ("id, channel, kind, payload, dedup_key, incident_id, status, attempts, next_try_at, "
                  "created_at, sent_at, last_error")


def row_to_incident(r: Sequence[Any]) -> Incident:
    return Incident(id=r[0], key=r[1], rule_id=r[2], group=loads(r[3], {}), state=IncidentState(r[4]),
                    severity=Severity(r[5]), title=r[6], first_seen=from_db(r[7]), last_seen=from_db(r[8]),
                    finding_count=r[9], post_count=r[10], summary=loads(r[11], {}),
                    sample_post_ids=tuple(loads(r[12], [])), opened_at=from_db(r[13]),
                    acknowledged_at=from_db(r[14]), resolved_at=from_db(r[15]), refs=loads(r[16], {}))


def row_to_notification(r: Sequence[Any]) -> Notification:
    return Notification(id=r[0], channel=r[1], kind=NotificationKind(r[2]), payload=loads(r[3], {}),
                        dedup_key=r[4], incident_id=r[5], status=DeliveryStatus(r[6]), attempts=r[7],
                        next_try_at=from_db(r[8]), created_at=from_db(r[9]), sent_at=from_db(r[10]),
                        last_error=r[11])


class IncidentsMixin:
    _cx: Connections

    # --- incidents ----------------------------------------------------------------------

    def open_incident_for(self, key: str) -> Incident | None:
        row = self._cx.conn().execute(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE key = ? AND state != 'resolved'", (key,)).fetchone()
        return row_to_incident(row) if row else None

    def get_incident(self, incident_id: int) -> Incident | None:
        row = self._cx.conn().execute(f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?",
                                      (incident_id,)).fetchone()
        return row_to_incident(row) if row else None

    def list_incidents(self, states: Sequence[IncidentState] = (), since: datetime | None = None,
                       limit: int = 100) -> list[Incident]:
        where, params = [], []
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(s.value for s in states)
        if since:
            where.append("last_seen >= ?")
            params.append(to_db(since))
        rows = self._cx.conn().execute(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents {'WHERE ' + ' AND '.join(where) if where else ''} "
            "ORDER BY last_seen DESC, id DESC LIMIT ?", [*params, limit]).fetchall()
        return [row_to_incident(r) for r in rows]

    def count_incidents(self, state: IncidentState | None = None, after_id: int = 0) -> int:
        sql, params = "SELECT count(*) FROM incidents WHERE id > ?", [after_id]
        if state is not None:
            sql += " AND state = ?"
            params.append(state.value)
        return self._cx.conn().execute(sql, params).fetchone()[0]

    def max_incident_id(self) -> int:
        return self._cx.conn().execute("SELECT coalesce(max(id), 0) FROM incidents").fetchone()[0]

    def insert_incident(self, incident: Incident, now: datetime) -> Incident:
        with self._cx.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO incidents (key, rule_id, grp, state, severity, title, first_seen, last_seen, "
                "finding_count, post_count, summary, sample_post_ids, opened_at, acknowledged_at, resolved_at, "
                "refs, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (incident.key, incident.rule_id, dumps(dict(incident.group)), incident.state.value,
                 incident.severity.value, incident.title, to_db(incident.first_seen), to_db(incident.last_seen),
                 incident.finding_count, incident.post_count, dumps(dict(incident.summary)),
                 dumps(list(incident.sample_post_ids)), to_db(incident.opened_at), to_db(incident.acknowledged_at),
                 to_db(incident.resolved_at), dumps(dict(incident.refs)), to_db(now)))
            incident_id = cur.lastrowid
        return self.get_incident(incident_id)  # type: ignore[return-value]

    def update_incident(self, incident: Incident, now: datetime) -> None:
        with self._cx.transaction() as conn:
            conn.execute(
                "UPDATE incidents SET state = ?, severity = ?, title = ?, first_seen = ?, last_seen = ?, "
                "finding_count = ?, post_count = ?, summary = ?, sample_post_ids = ?, acknowledged_at = ?, "
                "resolved_at = ?, refs = ?, updated_at = ? WHERE id = ?",
                (incident.state.value, incident.severity.value, incident.title, to_db(incident.first_seen),
                 to_db(incident.last_seen), incident.finding_count, incident.post_count,
                 dumps(dict(incident.summary)), dumps(list(incident.sample_post_ids)),
                 to_db(incident.acknowledged_at), to_db(incident.resolved_at), dumps(dict(incident.refs)),
                 to_db(now), incident.id))

    def merge_incident_refs(self, incident_id: int, refs: Mapping[str, str]) -> None:
        """Remember ids in external systems (an issue key, a message ts) without racing other updates."""
        if not refs:
            return
        with self._cx.transaction() as conn:
            row = conn.execute("SELECT refs FROM incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                return
            merged = {**loads(row[0], {}), **refs}
            conn.execute("UPDATE incidents SET refs = ? WHERE id = ?", (dumps(merged), incident_id))

    # --- outbox -------------------------------------------------------------------------

    def enqueue(self, notifications: Sequence[Notification], now: datetime) -> list[int]:
        ids = []
        with self._cx.transaction() as conn:
            for n in notifications:
                cur = conn.execute(
                    "INSERT INTO outbox (incident_id, channel, kind, dedup_key, payload, status, attempts, "
                    "next_try_at, created_at, last_error) VALUES (?,?,?,?,?,?,0,?,?,?)",
                    (n.incident_id, n.channel, n.kind.value, n.dedup_key, dumps(dict(n.payload)), n.status.value,
                     to_db(n.next_try_at or now), to_db(now), n.last_error))
                ids.append(cur.lastrowid)
        return ids

    def claim_due(self, now: datetime, limit: int, lease: timedelta,
                  channels: Sequence[str] | None = None) -> list[Notification]:
        """Claim pending notifications that are due and not leased, oldest first.

        Rows of one incident and channel are delivered in order: a row is only due when no
        earlier row of the same incident and channel is still pending.
        """
        stamp, until = to_db(now), to_db(now + lease)
        channel_filter = ""
        params: list[Any] = [stamp, stamp]
        if channels is not None:
            channel_filter = f"AND o.channel IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        with self._cx.transaction() as conn:
            rows = conn.execute(
                f"SELECT {', '.join('o.' + c.strip() for c in OUTBOX_COLUMNS.split(','))} FROM outbox o "
                "WHERE o.status = 'pending' AND o.next_try_at <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?) "
                f"{channel_filter} AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' "
                "AND p.channel = o.channel AND p.incident_id = o.incident_id AND p.id < o.id) "
                "ORDER BY o.id LIMIT ?", [*params, limit]).fetchall()
            conn.executemany("UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                             [(until, r[0]) for r in rows])
        return [row_to_notification(r[:7] + (r[7] + 1,) + r[8:]) for r in rows]

    def mark_sent(self, notification_id: int, now: datetime) -> None:
        with self._cx.transaction() as conn:
            conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL "
                         "WHERE id = ?", (to_db(now), notification_id))

    def mark_failed(self, notification_id: int, error: str, next_try_at: datetime | None) -> None:
        """Record a failed attempt: retry at `next_try_at`, or dead-letter the row when None."""
        with self._cx.transaction() as conn:
            if next_try_at is None:
                conn.execute("UPDATE outbox SET status = 'dead', last_error = ?, lease_until = NULL WHERE id = ?",
                             (error, notification_id))
            else:
                conn.execute("UPDATE outbox SET last_error = ?, next_try_at = ?, lease_until = NULL WHERE id = ?",
                             (error, to_db(next_try_at), notification_id))

    def list_outbox(self, statuses: Sequence[DeliveryStatus] = (), limit: int = 100,
                    incident_id: int | None = None, channel: str | None = None) -> list[Notification]:
        where, params = [], []
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(s.value for s in statuses)
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        if channel is not None:
            where.append("channel = ?")
            params.append(channel)
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox {'WHERE ' + ' AND '.join(where) if where else ''} "
        rows = self._cx.conn().execute(sql + "ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
        return [row_to_notification(r) for r in rows]

    def get_notification(self, notification_id: int) -> Notification | None:
        row = self._cx.conn().execute(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?",
                                      (notification_id,)).fetchone()
        return row_to_notification(row) if row else None

    def later_resolve_sent(self, notification: Notification) -> int | None:
        """The id of a resolve already sent to this channel for this incident after `notification`."""
        row = self._cx.conn().execute(
            "SELECT id FROM outbox WHERE incident_id = ? AND channel = ? AND kind = 'resolve' AND status = 'sent' "
            "AND id > ? ORDER BY id LIMIT 1", (notification.incident_id, notification.channel,
                                               notification.id)).fetchone()
        return row[0] if row else None

    def mark_suppressed(self, notification_id: int, reason: str) -> None:
        """Keep a notification for the record without sending it (a channel that cannot take it)."""
        with self._cx.transaction() as conn:
            conn.execute("UPDATE outbox SET status = 'suppressed', last_error = ?, lease_until = NULL WHERE id = ?",
                         (reason, notification_id))

    def retry_outbox(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Put dead-lettered notifications back in the queue (all of them when `ids` is None)."""
        with self._cx.transaction() as conn:
            if ids is None:
                cur = conn.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_try_at = ? "
                                   "WHERE status = 'dead'", (to_db(now),))
            else:
                cur = conn.executemany("UPDATE outbox SET status = 'pending', attempts = 0, next_try_at = ? "
                                       "WHERE id = ? AND status = 'dead'", [(to_db(now), i) for i in ids])
            return cur.rowcount

    def outbox_counts(self) -> dict[str, int]:
        rows = self._cx.conn().execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        return {status: n for status, n in rows}
