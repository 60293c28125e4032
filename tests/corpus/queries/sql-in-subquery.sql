-- SQL: IN and NOT IN with a NULL in the subquery (NOT IN is then never true), as three-valued
-- values in the select list.
CREATE TABLE l(x INTEGER);
CREATE TABLE r(y INTEGER);
INSERT INTO l VALUES (1), (2), (NULL);
INSERT INTO r VALUES (1), (NULL);
SELECT x, x IN (SELECT y FROM r), x NOT IN (SELECT y FROM r) FROM l;
