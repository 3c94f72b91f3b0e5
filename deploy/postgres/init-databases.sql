-- One database per service (each service owns its schema and migrates it on start-up).
-- Runs once, when the PostgreSQL volume is initialised (docker-entrypoint-initdb.d).
CREATE DATABASE zufi;
CREATE DATABASE submission;
CREATE DATABASE kop_gateway;
CREATE DATABASE payment;
CREATE DATABASE mailbox;
