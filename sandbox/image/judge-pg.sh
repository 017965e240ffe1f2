#!/bin/sh
# Builds the judge's PostgreSQL template at image build time, as the judge's
# uid: a cluster with the judge's superuser (reachable only on the judge's
# own unix socket), the app's unprivileged role (reachable only over
# loopback TCP, with a password the judge sets per run), the app's
# database and pg_stat_statements in a schema the app cannot read. At run
# time the judge copies it into its scratch space and starts it, so no
# submission pays for initdb. See djgrade_judge_init.py.
set -eux
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
D=/opt/djgrade/pgtemplate
"$BIN/initdb" -D "$D" -U judge -A trust -E UTF8 --no-locale -N --no-instructions
cat > "$D/pg_hba.conf" <<'HBA'
# The judge: its own socket only (the candidate's container cannot see it).
local   all      judge                 trust
# The candidate's app: loopback TCP, its database, its password.
host    djgrade  app    127.0.0.1/32   scram-sha-256
host    all      all    0.0.0.0/0      reject
host    all      all    ::/0           reject
HBA
"$BIN/pg_ctl" -D "$D" -w -o "-c listen_addresses= -c unix_socket_directories=/tmp -c shared_preload_libraries=pg_stat_statements" start
"$BIN/psql" -h /tmp -U judge -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 40;
ALTER ROLE app SET temp_file_limit = '64MB';
CREATE DATABASE djgrade OWNER judge;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
REVOKE ALL ON DATABASE template1 FROM PUBLIC;
SQL
"$BIN/psql" -h /tmp -U judge -d djgrade -v ON_ERROR_STOP=1 <<'SQL'
REVOKE ALL ON DATABASE djgrade FROM PUBLIC;
GRANT CONNECT ON DATABASE djgrade TO app;
GRANT USAGE, CREATE ON SCHEMA public TO app;
CREATE SCHEMA djgrade_stats;
REVOKE ALL ON SCHEMA djgrade_stats FROM PUBLIC;
CREATE EXTENSION pg_stat_statements SCHEMA djgrade_stats;
-- No functions of the app's own: a function's inner statements would be
-- one top-level statement to pg_stat_statements.
REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;
REVOKE USAGE ON LANGUAGE sql FROM PUBLIC;
-- Nor the built-ins that run SQL given as text: their statements would be
-- nested in one top-level call too (query_to_xml runs a query per row).
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           WHERE p.pronamespace = 'pg_catalog'::regnamespace
             AND p.proname IN ('query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
                               'cursor_to_xml', 'cursor_to_xmlschema',
                               'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
                               'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
                               'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
                               'ts_stat', 'ts_rewrite')
  LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
SQL
"$BIN/pg_ctl" -D "$D" -w -m fast stop
rm -f "$D/postmaster.opts" "$D"/log/* 2>/dev/null || true
