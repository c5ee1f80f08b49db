"""The lock model (`zdlint.sql.locking`) checked statement by statement on a real server.

Each statement runs on a fresh copy of one schema; the strongest lock it takes on each
table and index that existed before it (read from pg_locks) must be the mode the model
says, for every relation where either side has a DDL-level lock (SHARE UPDATE
EXCLUSIVE or stronger: the weaker ones are ordinary traffic's and block no traffic).
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql as pg_sql

from zdlint.locks import lock_mode
from zdlint.pg.server import PgServer
from zdlint.pg.trace import run_trace
from zdlint.sql.locking import ALL_INDEXES, statement_locks
from zdlint.sql.parse import parse_fast
from zdlint.sql.schema import SchemaModel

SETUP = """
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, p_id int, n int, v text, g int NOT NULL);
CREATE INDEX t_n_idx ON t (n);
CREATE UNIQUE INDEX t_g_key ON t (g);
ALTER TABLE t ADD CONSTRAINT t_n_check CHECK (n > 0) NOT VALID;
CREATE TABLE child (id int PRIMARY KEY, p_id int REFERENCES p);
CREATE TABLE gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED);
CREATE TABLE base (id int PRIMARY KEY, p_id int, n int, v text, g int NOT NULL);
CREATE TYPE row_type AS (id int, p_id int, n int, v text, g int);
CREATE TABLE parted (id int NOT NULL, k int NOT NULL) PARTITION BY LIST (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
CREATE TABLE loose (id int NOT NULL, k int NOT NULL);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE RULE t_rule AS ON UPDATE TO p DO ALSO NOTIFY p;
CREATE POLICY t_policy ON t USING (true);
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
CREATE UNIQUE INDEX mv_id ON mv (id);
CREATE SEQUENCE seq;
"""

_SCHEMA = SchemaModel()
for _raw in parse_fast(SETUP):
    _SCHEMA.apply(_raw.stmt)

STATEMENTS = [
    # ALTER TABLE, one subcommand at a time (PostgreSQL's ALTER TABLE reference page)
    "ALTER TABLE t ADD COLUMN c int",
    "ALTER TABLE t ADD COLUMN c int REFERENCES p",
    "ALTER TABLE t DROP COLUMN v",
    "ALTER TABLE t ALTER COLUMN v TYPE varchar(20)",
    "ALTER TABLE t ALTER COLUMN n SET DEFAULT 1",
    "ALTER TABLE t ALTER COLUMN n DROP DEFAULT",
    "ALTER TABLE t ALTER COLUMN id SET NOT NULL",
    "ALTER TABLE t ALTER COLUMN g DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN n SET STATISTICS 200",
    "ALTER TABLE t ALTER COLUMN n SET (n_distinct = 10)",
    "ALTER TABLE t ALTER COLUMN n RESET (n_distinct)",
    "ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL",
    "ALTER TABLE t ALTER COLUMN v SET COMPRESSION pglz",
    "ALTER TABLE t ALTER COLUMN g ADD GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE gen ALTER COLUMN b DROP EXPRESSION",
    "ALTER TABLE t ADD CONSTRAINT t_n_pos CHECK (n > 0) NOT VALID",
    "ALTER TABLE t ADD CONSTRAINT t_p_fk FOREIGN KEY (p_id) REFERENCES p NOT VALID",
    "ALTER TABLE t ADD CONSTRAINT t_p_fk FOREIGN KEY (p_id) REFERENCES p",
    "ALTER TABLE t ADD CONSTRAINT t_n_key UNIQUE (n)",
    "ALTER TABLE t ADD CONSTRAINT t_g_unique UNIQUE USING INDEX t_g_key",
    "ALTER TABLE t VALIDATE CONSTRAINT t_n_check",
    "ALTER TABLE t DROP CONSTRAINT t_n_check",
    "ALTER TABLE child DROP CONSTRAINT child_p_id_fkey",
    "ALTER TABLE child ALTER CONSTRAINT child_p_id_fkey DEFERRABLE",
    "ALTER TABLE t RENAME COLUMN v TO w",
    "ALTER TABLE t RENAME CONSTRAINT t_n_check TO t_n_positive",
    "ALTER TABLE t RENAME TO t2",
    "ALTER TABLE t OWNER TO CURRENT_USER",
    "ALTER TABLE t CLUSTER ON t_n_idx",
    "ALTER TABLE t SET WITHOUT CLUSTER",
    "ALTER TABLE t SET UNLOGGED",
    "ALTER TABLE t SET TABLESPACE pg_default",
    "ALTER TABLE t SET ACCESS METHOD heap",
    "ALTER TABLE t SET (fillfactor = 70)",
    "ALTER TABLE t RESET (fillfactor)",
    "ALTER TABLE t SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)",
    "ALTER TABLE t SET (parallel_workers = 2, toast_tuple_target = 256)",
    "ALTER TABLE t SET (user_catalog_table = true)",
    "ALTER TABLE t SET (fillfactor = 70, user_catalog_table = true)",
    "ALTER TABLE t DISABLE TRIGGER t_touch",
    "ALTER TABLE t ENABLE TRIGGER t_touch",
    "ALTER TABLE t ENABLE ALWAYS TRIGGER t_touch",
    "ALTER TABLE t ENABLE REPLICA TRIGGER t_touch",
    "ALTER TABLE t DISABLE TRIGGER USER",
    "ALTER TABLE t DISABLE TRIGGER ALL",
    "ALTER TABLE p DISABLE RULE t_rule",
    "ALTER TABLE t INHERIT base",
    "ALTER TABLE t OF row_type",
    "ALTER TABLE t REPLICA IDENTITY FULL",
    "ALTER TABLE t REPLICA IDENTITY USING INDEX t_g_key",
    "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE t FORCE ROW LEVEL SECURITY",
    "ALTER TABLE parted ATTACH PARTITION loose FOR VALUES IN (2)",
    "ALTER TABLE parted DETACH PARTITION parted_1",
    # other DDL
    "CREATE INDEX t_v_idx ON t (v)",
    "DROP INDEX t_n_idx",
    "REINDEX INDEX t_n_idx",
    "REINDEX TABLE t",
    "ALTER INDEX t_n_idx RENAME TO t_n_index",
    "ALTER INDEX t_n_idx SET (fillfactor = 70)",
    "ALTER INDEX t_n_idx SET TABLESPACE pg_default",
    "CREATE TRIGGER t_touch_2 BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()",
    "DROP TRIGGER t_touch ON t",
    "ALTER TRIGGER t_touch ON t RENAME TO t_touched",
    "CREATE RULE t_rule_2 AS ON DELETE TO t DO ALSO NOTIFY t",
    "DROP RULE t_rule ON p",
    "CREATE POLICY t_policy_2 ON t USING (n > 0)",
    "ALTER POLICY t_policy ON t USING (n > 1)",
    "DROP POLICY t_policy ON t",
    "CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p)",
    "CREATE TABLE c (id int PRIMARY KEY, p_id int, FOREIGN KEY (p_id) REFERENCES p (id))",
    "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)",
    "CREATE TABLE heir () INHERITS (base)",
    "TRUNCATE t",
    "CLUSTER t USING t_n_idx",
    "REFRESH MATERIALIZED VIEW mv",
    "LOCK TABLE t IN SHARE MODE",
    "LOCK TABLE t IN EXCLUSIVE MODE",
    "DROP TABLE child",
    "DROP TABLE p CASCADE",
    "DROP MATERIALIZED VIEW mv",
    "DROP SEQUENCE seq",
]


def _predicted(sql: str, schema: SchemaModel) -> dict[str, str]:
    """Relation -> mode, as the model says, indexes resolved through the schema."""
    (raw,) = parse_fast(sql)
    modes: dict[str, str] = {}
    for lock in statement_locks(raw.stmt, schema):
        if lock.index == ALL_INDEXES:
            names = [index.name for index in schema.indexes_on(lock.table or "")]
        else:
            names = [lock.index or lock.relation]
        for name in names:
            held = modes.get(name)
            if held is None or lock_mode(held).strength < lock_mode(lock.mode).strength:
                modes[name] = lock.mode
    return modes


def _covered_by_its_table(relation: str, mode: str, predicted: dict[str, str]) -> bool:
    """An index the model does not name, locked no more than its table: a statement on
    a table locks the table's indexes along with it."""
    if relation in predicted:
        return False
    index = _SCHEMA.indexes.get(relation)
    table_mode = predicted.get(index.table) if index else None
    return table_mode is not None and lock_mode(table_mode).strength >= lock_mode(mode).strength


@pytest.mark.parametrize("sql", STATEMENTS)
def test_the_lock_model_matches_pg_locks(sql: str, pg_server: PgServer) -> None:
    result = run_trace(pg_server, [SETUP], sql, in_transaction=True)
    (statement,) = result.statements
    assert statement.error is None, statement.error
    measured: dict[str, str] = {}
    for taken in statement.locks:
        held = measured.get(taken.relation)
        if held is None or lock_mode(held).strength < taken.lock.strength:
            measured[taken.relation] = taken.mode
    predicted = _predicted(sql, _SCHEMA)
    ddl_level = lock_mode("ShareUpdateExclusiveLock").strength
    relations = {
        r
        for r, m in {**measured, **predicted}.items()
        if lock_mode(m).strength >= ddl_level and not _covered_by_its_table(r, m, predicted)
    }
    assert {r: predicted.get(r) for r in relations} == {r: measured.get(r) for r in relations}


def test_drop_database_fails_while_a_session_is_connected_and_force_ends_it(
    pg_server: PgServer,
) -> None:
    """What ZD311 says of DROP DATABASE, with and without FORCE."""
    admin = pg_server.dsn()
    name = pg_sql.Identifier("zdlint_dropped")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(pg_sql.SQL("CREATE DATABASE {}").format(name))
        with psycopg.connect(pg_server.dsn(dbname="zdlint_dropped")) as user:
            user.execute("SELECT 1")
            with pytest.raises(psycopg.errors.ObjectInUse):
                conn.execute(pg_sql.SQL("DROP DATABASE {}").format(name))
            conn.execute(pg_sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
            with pytest.raises(psycopg.OperationalError):
                user.execute("SELECT 1")
