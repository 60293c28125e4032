-- SQL: WITH RECURSIVE becomes a recursive relation (semi-naive loop), read by the main query.
CREATE TABLE edge(src TEXT, dst TEXT);
INSERT INTO edge VALUES ('a', 'b'), ('b', 'c'), ('c', 'a'), ('d', 'e');
WITH RECURSIVE reach(node) AS (SELECT 'a' UNION SELECT e.dst FROM edge e JOIN reach r ON e.src = r.node)
SELECT node FROM reach ORDER BY node;
