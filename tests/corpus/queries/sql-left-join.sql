-- SQL: LEFT JOIN along a reference (unmatched rows padded with NULL) and a bag of equal rows.
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE pet(owner INTEGER, kind TEXT);
INSERT INTO person(name) VALUES ('ann'), ('bob'), ('ann');
INSERT INTO pet VALUES (1, 'cat'), (1, 'cat'), (3, 'dog');
SELECT p.name, q.kind FROM person p LEFT JOIN pet q ON q.owner = p.id;
