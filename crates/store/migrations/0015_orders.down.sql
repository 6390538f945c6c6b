DROP TABLE cep_cache;
DROP TABLE orders;
