-- SQL: EXISTS as a value (in the select list and in CASE), correlated, over its subquery's
-- domain; one subquery is grouped. A table whose name starts with `d` checks that the domain
-- relation is the subquery's own.
CREATE TABLE dept(name TEXT);
CREATE TABLE emp(d TEXT);
INSERT INTO dept VALUES ('a'), ('b'), (NULL);
INSERT INTO emp VALUES ('a'), ('a');
SELECT name,
       EXISTS (SELECT 1 FROM emp WHERE emp.d = dept.name),
       CASE WHEN EXISTS (SELECT count(*) FROM emp WHERE emp.d = dept.name GROUP BY emp.d) THEN 'y' ELSE 'n' END
  FROM dept ORDER BY name;
