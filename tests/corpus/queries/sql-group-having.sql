-- SQL: GROUP BY with aggregates over a bag (SUM counts equal rows twice), HAVING, and
-- COUNT of a column skipping NULLs.
CREATE TABLE sale(region TEXT, amount INTEGER);
INSERT INTO sale VALUES ('n', 10), ('n', 10), ('s', 5), ('s', NULL), ('e', NULL);
SELECT region, SUM(amount), COUNT(amount), COUNT(*) FROM sale GROUP BY region HAVING COUNT(*) > 1 ORDER BY region;
