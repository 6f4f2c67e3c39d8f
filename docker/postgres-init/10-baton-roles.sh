#!/usr/bin/env bash
# First start of the postgres container only (docker-entrypoint-initdb.d): the two roles of Baton.
#   baton_owner  owns the database and its tables; the web container runs the migrations as it.
#   baton_app    what web, worker and beat connect as: DML on ordinary tables, only SELECT and INSERT
#                on the append-only ones (granted by `manage.py grant_app_role` after each migrate).
# Neither is a superuser: POSTGRES_USER (postgres) stays the administrator's, used by no process.
set -euo pipefail
: "${POSTGRES_OWNER_PASSWORD:?set POSTGRES_OWNER_PASSWORD in .env}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$POSTGRES_OWNER_PASSWORD" -v app_password="$POSTGRES_APP_PASSWORD" \
  -v db="${BATON_DB:-baton}" <<'SQL'
CREATE ROLE baton_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE baton_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
CREATE DATABASE :"db" OWNER baton_owner;
\connect :"db"
-- The schema belongs to the owner; nobody else may create objects in it (PUBLIC loses CREATE).
ALTER SCHEMA public OWNER TO baton_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO baton_app;
SQL
