-- expect: a type error: an INTEGER column compared with a TEXT literal
CREATE TABLE t(a INTEGER, b TEXT);
SELECT b FROM t WHERE a = 'ten';
