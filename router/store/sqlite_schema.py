"""The SQLite store's tables and indexes, and the columns added since each table was first made.

Applied by every process when it opens its first connection (sqlite_tuning.SqliteDb); the choices made for
speed (WITHOUT ROWID, partial indexes, ids that sort by time) are noted beside each table.
"""

from __future__ import annotations

SCHEMA = (
    """create table if not exists router_job (
        id text primary key, webhook_id text not null, rule text not null, target text not null,
        target_type text not null, status text not null, attempts integer not null default 0,
        last_error text not null default '', created_at real not null, updated_at real not null,
        next_at real not null, deadline_at real not null, lease_until real not null default 0,
        owner text not null default '', receipt text not null default '{}', payload text not null,
        suppressed integer)""",
    "create index if not exists router_job_status on router_job (status, next_at)",
    "create index if not exists router_job_created on router_job (created_at)",
    # one B-tree, not a table plus its key's index: a page fewer per webhook (files made before keep theirs)
    """create table if not exists router_dedup (key text primary key, expires_at real not null,
        webhook_id text not null default '') without rowid""",
    # accepted webhooks until the worker fans them out into jobs (fanout.py); rows live for milliseconds and
    # ids sort by time, so both B-trees are appended to. Not WITHOUT ROWID: such a row stores at most ~1 KB
    # in its leaf and a webhook (body + notes) is usually more, costing an overflow page per commit
    """create table if not exists router_inbound (id text primary key, created_at real not null,
        due_at real not null, resource text not null, request_id text not null, received_at real not null,
        body_sha256 text not null, body blob not null, notes text not null, leases integer not null default 0)""",
    """create table if not exists router_throttle (key text primary key, until real not null,
        suppressed integer not null default 0, holder text not null, carried integer not null default 0,
        expires_at real not null)""",
    "create table if not exists router_kv (key text primary key, value text not null, expires_at real)",
    # silences (silence_store.py): finished_at is when it stops holding back (null: until its issue resolves)
    "create table if not exists router_silence (id text primary key, finished_at real, body text not null)",
    # the history the console and API read (history.py): ids sort by time, so lists walk an index backwards
    """create table if not exists router_webhook (id text primary key, created_at real not null,
        resource text not null, action text not null, title text not null, project text not null,
        issue_id text not null, matched text not null, duplicate_of text not null, request_id text not null,
        body blob not null)""",
    "create index if not exists router_webhook_resource on router_webhook (resource, id)",
    "create index if not exists router_webhook_action on router_webhook (action, id)",
    "create index if not exists router_webhook_issue on router_webhook (issue_id, id)",
    "create index if not exists router_webhook_project on router_webhook (project, id)",
    "create index if not exists router_job_webhook on router_job (webhook_id)",
    "create index if not exists router_job_status_id on router_job (status, id)",
    # not keyed by (job, n): a replayed job counts its attempts from 1 again, and keeps the earlier ones
    """create table if not exists router_attempt (job_id text not null, n integer not null, at real not null,
        outcome text not null, error text not null, target text not null)""",
    "create index if not exists router_attempt_job on router_attempt (job_id)",
    # per-minute counts for the status charts (webhooks; attempts by outcome and target), bumped as they happen
    """create table if not exists router_stat (minute integer not null, name text not null, n integer not null,
        primary key (minute, name)) without rowid""",
)

# columns added since a table was first made: files from before get them when first opened
UPGRADES = (("router_dedup", "webhook_id text not null default ''"),  # files of 0.1
            ("router_inbound", "leases integer not null default 0"),  # files of 2026-11-26
            ("router_inbound", "matched text not null default '[]'"),  # files of 2026-11-29
            ("router_job", "batch text not null default ''"),  # files before pacing (pacing.py)
            # what rebuilds a job's event from its webhook row (jobs made before carry the event themselves)
            ("router_webhook", "received_at real not null default 0"),
            ("router_webhook", "body_sha256 text not null default ''"))
# indexes on upgraded columns: made after the upgrades
INDEXES = ("create index if not exists router_job_batch on router_job (batch, status) where batch != ''",
           # the queue: due jobs, soonest first (store_sqlite.claim_next), without the finished rows
           "create index if not exists router_job_due on router_job (next_at) where status in ('queued', 'retrying')")
