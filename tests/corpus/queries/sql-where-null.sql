-- SQL: a filter over nullable columns (three-valued logic; a missing attribute is NULL),
-- an equality on a column becomes an index probe, ORDER BY with NULLs first.
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, city TEXT);
INSERT INTO person(name, age, city) VALUES ('ann', 34, 'Oslo'), ('bob', NULL, 'Oslo'), ('cy', 19, NULL);
SELECT name, age FROM person WHERE city = 'Oslo' AND (age > 20 OR age IS NULL) ORDER BY age, name;
