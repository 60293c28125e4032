-- SQL: a correlated scalar subquery (decorrelated over a domain of the outer values; an
-- empty group counts 0) and a correlated NOT EXISTS (an antijoin).
CREATE TABLE t(a INTEGER, b INTEGER);
INSERT INTO t VALUES (1, 10), (2, 20), (3, NULL);
SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b) FROM t
 WHERE NOT EXISTS (SELECT 1 FROM t AS y WHERE y.a = t.a + 10);
