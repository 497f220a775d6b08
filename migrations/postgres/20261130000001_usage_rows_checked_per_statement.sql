-- Usage rows are appended in bulk (the UsageRecorder writes 1000-row batches). A foreign key
-- checks every inserted row with its own trigger query and row lock: measured at ~40% of a
-- batch insert. The store's usage inserts now check the referenced API key or user once per
-- statement instead, locking it FOR KEY SHARE as the foreign key check did, so it cannot be
-- deleted before the rows commit; rows whose key or user is gone are not inserted (the store
-- reports them). These triggers take over ON DELETE CASCADE.
ALTER TABLE api_key_usage DROP CONSTRAINT api_key_usage_api_key_id_fkey;
ALTER TABLE jwt_usage DROP CONSTRAINT jwt_usage_user_id_fkey;

CREATE FUNCTION delete_usage_of_deleted_api_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM api_key_usage u USING deleted_api_keys d WHERE u.api_key_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_delete_usage AFTER DELETE ON api_keys
    REFERENCING OLD TABLE AS deleted_api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION delete_usage_of_deleted_api_keys();

CREATE FUNCTION delete_jwt_usage_of_deleted_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM jwt_usage u USING deleted_users d WHERE u.user_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_delete_jwt_usage AFTER DELETE ON users
    REFERENCING OLD TABLE AS deleted_users
    FOR EACH STATEMENT EXECUTE FUNCTION delete_jwt_usage_of_deleted_users();
