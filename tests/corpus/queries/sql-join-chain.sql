-- SQL: comma joins planned from the join predicates, not the FROM order: equalities unify
-- columns, a constant is a probe, a per-table IN-list filter runs before the joins.
CREATE TABLE t1(a1 INTEGER, b1 INTEGER, x1 TEXT);
CREATE TABLE t2(a2 INTEGER, b2 INTEGER, x2 TEXT);
CREATE TABLE t3(a3 INTEGER, b3 INTEGER, x3 TEXT);
INSERT INTO t1 VALUES (1, 2, 'p'), (2, 3, 'q');
INSERT INTO t2 VALUES (2, 5, 'r'), (3, 7, 's');
INSERT INTO t3 VALUES (5, 1, 'u'), (7, 9, 'v');
SELECT x1, x2, x3 FROM t3, t1, t2 WHERE b2 = a3 AND a1 = 1 AND b1 = a2 AND b3 IN (1, 4);
