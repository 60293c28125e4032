-- expect: an INDEXED BY naming an index the table does not have
CREATE TABLE t(a INTEGER, b TEXT);
SELECT b FROM t INDEXED BY t_b WHERE a = 'ten';
