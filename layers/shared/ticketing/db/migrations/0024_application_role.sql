-- compatible: the previous release connects as the master user, which owns every object; the REVOKEs only take
-- from PUBLIC (creating in the schema, which no release does at run time) and from the new role ticketing_app.
-- The application role (docs/security.md, "Database roles"): what every function but the migration function
-- connects as. It may read and write the rows of the application's tables, use their sequences and call their
-- functions; it owns nothing, so it cannot DROP, ALTER or TRUNCATE, and it may not create objects. The
-- migrating user (the cluster's master user in AWS) stays the owner of everything and runs only here.
--
-- Created NOLOGIN: a login is a separate step with a password from configuration (ticketing.db.migrate
-- enable_app_login: in AWS the migration function, with the Secrets Manager secret RDS Proxy also uses; in tests
-- and `make run`, a generated password). Roles are cluster-wide and several databases of one server (tests) may
-- run this at once, so a role another migration created meanwhile is fine.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticketing_app') THEN
        CREATE ROLE ticketing_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO ticketing_app', current_database());
END
$$;

-- Nobody but the owner creates objects in the schema (PostgreSQL 15 and later default to this already).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ticketing_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ticketing_app;
-- The migrations' own record is read-only to the application (the health check may read the schema version).
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM ticketing_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ticketing_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ticketing_app;

-- Tables, sequences and functions later migrations create get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ticketing_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ticketing_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ticketing_app;
