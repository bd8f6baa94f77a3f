-- A local store (vault.db) of schema 2, as Strongroom wrote it before the `refused` table
-- (schema 3). Opening it must migrate to schema 3 keeping every row (tests/test_open_before_merge.py).
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE versions (
    record_id TEXT NOT NULL,
    vv TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body BLOB NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX versions_record ON versions (record_id, vv);
CREATE INDEX versions_seq ON versions (seq);
CREATE TABLE cache (key TEXT PRIMARY KEY, value BLOB NOT NULL);
INSERT INTO meta VALUES ('seq', CAST('2' AS BLOB));
INSERT INTO meta VALUES ('device', CAST('0a0b0c0d' AS BLOB));
INSERT INTO versions VALUES ('r1', '{"0a0b0c0d":1}', 1700000000000, '0a0b0c0d', 0,
    X'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627', 1);
INSERT INTO versions VALUES ('r2', '{"0a0b0c0d":2}', 1700000000001, '0a0b0c0d', 1,
    X'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 2);
INSERT INTO cache VALUES ('index', CAST('cached' AS BLOB));
PRAGMA user_version=2;
