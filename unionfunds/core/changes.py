"""Change positions for the pull feeds of outside systems (``docs/guide/auditor.md``).

A model that outside systems copy inherits ``ChangeTracked``: its ``change_xid`` column says when the row was
last written, in an order that matches the order in which writes become visible, so a reader can tell which
rows it may pass and which could still be overtaken by an earlier writer that commits later.

The value is set by the database on every INSERT and UPDATE of the row, whatever wrote it (a service's
``save()``, a queryset ``update()``, ``bulk_update``, the COPY of ``unionfunds.core.bulk``), never by Python:

- PostgreSQL: a BEFORE trigger stores the writing transaction's id (``pg_current_xact_id()``). Ids are handed
  out when a transaction first writes, so a transaction that started early and commits late has a *lower*
  id than rows already visible. ``horizon()`` is the lowest id of this database that may still be in
  progress (or be handed out later): every row below it is decided (committed, or gone with its rollback)
  and visible to the reader's next statement.
- SQLite: one writer at a time. AFTER triggers number every row write from a counter table; the numbers are
  taken under the database's single write lock, so their order is the commit order and every number a
  reader can see is decided (``horizon()`` is one past the newest).

Migrations attach the triggers with ``TrackChanges(model_name)`` (after adding the field); the shared
trigger function and counter table come from core's migration ``0004_change_feed``.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection as default_connection
from django.db import models
from django.db.migrations.operations.base import Operation

FIELD = "change_xid"
# The feed's order: by change position, then by id for the rows of one transaction.
FEED_ORDER = (FIELD, "id")

COUNTER_TABLE = "core_changecounter"
PG_FUNCTION = "core_set_change_xid"
PG_HORIZON = "core_change_horizon"


class ChangeTracked(models.Model):
    """Adds ``change_xid`` (set by the database on every write; see the module) and its feed index.

    A model's own ``Meta.indexes`` replaces this one's: list ``*ChangeTracked.Meta.indexes`` in it.
    """

    change_xid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=list(FEED_ORDER), name="%(app_label)s_%(class)s_feed")]


# ---------------------------------------------------------------- SQL


def _trigger_names(table: str) -> tuple[str, str]:
    """SQLite's two triggers (it has no trigger for both events); PostgreSQL's one is ``<table>_change_xid``."""
    return f"{table}_change_insert", f"{table}_change_update"


_PG_HORIZON_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION {PG_HORIZON}() RETURNS bigint AS $$
    DECLARE
        own bigint := pg_current_xact_id_if_assigned()::text::bigint;
        -- No transaction id below this can be handed out any more: xmax is at most the next id, and our
        -- own id has been handed out. Read first: whatever starts after it gets an id at or above it.
        bound bigint := greatest(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, own + 1);
        running bigint;
    BEGIN
        -- Transactions of this database still in progress (their 32-bit ids made whole against bound; live
        -- ids are never 2^31 apart). Other databases of the cluster never write these tables, so their long
        -- transactions hold nothing back. Read after bound, from the live process table, not a cached copy.
        -- (Prepared transactions would not be listed: the app uses none, max_prepared_transactions is 0.)
        PERFORM pg_stat_clear_snapshot();
        SELECT min(bound + (((backend_xid::text::bigint - bound % 4294967296) + 6442450944) % 4294967296)
                   - 2147483648)
          INTO running
          FROM pg_stat_activity
         WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid();
        RETURN least(bound, running);
    END;
    $$ LANGUAGE plpgsql VOLATILE
"""  # noqa: S608 -- names are this module's constants


def shared_sql(vendor: str) -> tuple[list[str], list[str]]:
    """(create, drop) of what every tracked table's triggers and every reader use."""
    if vendor == "postgresql":
        create = f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
            BEGIN
                NEW.{FIELD} := pg_current_xact_id()::text::bigint;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
        """
        drop = [f"DROP FUNCTION IF EXISTS {PG_HORIZON}()", f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"]
        return [create, _PG_HORIZON_FUNCTION], drop
    if vendor == "sqlite":
        create = f"CREATE TABLE IF NOT EXISTS {COUNTER_TABLE} (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"
        return [create], [f"DROP TABLE IF EXISTS {COUNTER_TABLE}"]
    raise NotImplementedError(f"change tracking supports PostgreSQL and SQLite, not {vendor}")


def table_sql(vendor: str, table: str, pk: str) -> tuple[list[str], list[str]]:
    """(create, drop) of the triggers that keep ``change_xid`` of ``table``; creating is idempotent."""
    on_insert, on_update = _trigger_names(table)
    if vendor == "postgresql":
        trigger = f"{table}_{FIELD}"
        create = [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
        return create, [f"DROP TRIGGER IF EXISTS {trigger} ON {table}"]
    if vendor == "sqlite":
        # SQLite cannot assign NEW in a trigger: the row is numbered right after it was written. The UPDATE
        # inside the trigger does not fire the update trigger again (SQLite's recursive_triggers is off); the
        # insert trigger's UPDATE does fire it once, which only spends one more number.
        # Names in these statements are the model's and this module's, never input.
        bump = f"INSERT INTO {COUNTER_TABLE} (id, value) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET value = value + 1"  # noqa: S608
        number = f"(SELECT value FROM {COUNTER_TABLE} WHERE id = 1)"  # noqa: S608
        body = f"{bump}; UPDATE {table} SET {FIELD} = {number} WHERE {pk} = NEW.{pk};"  # noqa: S608
        create = [
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END"
            for name, event in ((on_insert, "INSERT"), (on_update, "UPDATE"))
        ]
        return create, [f"DROP TRIGGER IF EXISTS {on_insert}", f"DROP TRIGGER IF EXISTS {on_update}"]
    raise NotImplementedError(f"change tracking supports PostgreSQL and SQLite, not {vendor}")


def _quoted(model) -> tuple[str, str]:
    return model._meta.db_table, model._meta.pk.column


class TrackChanges(Operation):
    """Migration operation: the database sets ``change_xid`` of ``model_name`` on every write from now on."""

    reversible = True

    def __init__(self, model_name: str):
        self.model_name = model_name

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model_name": self.model_name}

    def state_forwards(self, app_label, state):
        pass  # triggers are not part of Django's model state

    def _run(self, app_label, schema_editor, state, *, create: bool):
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        forwards, backwards = table_sql(schema_editor.connection.vendor, *_quoted(model))
        for sql in forwards if create else backwards:
            schema_editor.execute(sql, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, to_state, create=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, from_state, create=False)

    def describe(self):
        return f"Set {FIELD} of {self.model_name} by database triggers"

    @property
    def migration_name_fragment(self):
        return f"track_changes_{self.model_name.lower()}"


def tracked_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, ChangeTracked)]


def ensure_triggers(connection=None) -> None:
    """Create any missing trigger of a tracked table on SQLite (idempotent).

    SQLite rebuilds a table, dropping its triggers, for most schema changes (a new column with a default, a
    changed field, a constraint), so this runs after every ``migrate`` (``CoreConfig.ready``). PostgreSQL keeps
    triggers through ALTER TABLE: its migrations alone attach them.
    """
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        return
    tables = set(connection.introspection.table_names())
    statements = shared_sql("sqlite")[0]
    for model in tracked_models():
        table, pk = _quoted(model)
        if table in tables and FIELD in {c.name for c in _columns(connection, table)}:
            statements += table_sql("sqlite", table, pk)[0]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _columns(connection, table: str):
    with connection.cursor() as cursor:
        return connection.introspection.get_table_description(cursor, table)


def _has_triggers(connection, table: str) -> bool:
    """Whether every trigger of ``table`` exists."""
    on_insert, on_update = _trigger_names(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s AND NOT tgisinternal",
                [table, f"{table}_{FIELD}"],
            )
            return cursor.fetchone()[0] == 1
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s)",
            [table, on_insert, on_update],
        )
        return cursor.fetchone()[0] == 2


def has_triggers(model, connection=None) -> bool:
    return _has_triggers(connection or default_connection, model._meta.db_table)


# ---------------------------------------------------------------- the reader's horizon


def horizon(connection=None) -> int:
    """The lowest change position that may still be undecided for this reader (one query).

    Rows below it are committed and visible, and no row can appear below it any more; rows at or above it
    are held back by the feed. Read it *before* the rows: a later snapshot only sees more of what is decided.
    A reader inside its own write transaction (a test, a script) sees its own rows: they are below it.
    """
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {PG_HORIZON}()")
        else:
            cursor.execute(f"SELECT COALESCE(MAX(value), 0) + 1 FROM {COUNTER_TABLE}")  # noqa: S608 -- a constant
        return cursor.fetchone()[0]
