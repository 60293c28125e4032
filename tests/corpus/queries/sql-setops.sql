-- SQL: UNION ALL keeps duplicates (a branch tag and the row identities), UNION, INTERSECT
-- and EXCEPT are sets, evaluated left to right.
CREATE TABLE a(v INTEGER);
CREATE TABLE b(v INTEGER);
INSERT INTO a VALUES (1), (1), (2);
INSERT INTO b VALUES (2), (3);
SELECT v FROM a UNION ALL SELECT v FROM b EXCEPT SELECT 3;
