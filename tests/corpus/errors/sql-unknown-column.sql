-- expect: no such column: salary
CREATE TABLE t(a INTEGER);
SELECT salary FROM t;
