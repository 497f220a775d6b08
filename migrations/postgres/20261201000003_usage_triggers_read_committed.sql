-- The triggers of 20261130000001 delete the usage rows of deleted API keys and users, in
-- place of ON DELETE CASCADE. At READ COMMITTED their DELETE takes a fresh snapshot and so
-- sees usage rows committed while the deletion waited for the inserter's FOR KEY SHARE
-- lock. At REPEATABLE READ or SERIALIZABLE it runs with the transaction's snapshot, taken
-- before those rows committed, and left them behind: orphan usage rows (a foreign key
-- cascade would have raised a serialization failure instead). A trigger cannot take a
-- newer snapshot, so the triggers now refuse to run above READ COMMITTED, with their own
-- SQLSTATE (PSU01), and the deletion is rolled back. The store runs its own deletions in
-- READ COMMITTED transactions (BEGIN ISOLATION LEVEL READ COMMITTED) whatever the database
-- default is; run raw deletions of users or API keys the same way.
CREATE FUNCTION require_read_committed_for_usage_cascade(deleted text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'deleting % is only allowed at READ COMMITTED isolation, not %',
                deleted, current_setting('transaction_isolation')
            USING ERRCODE = 'PSU01',
                  HINT = 'Run the DELETE in a transaction begun with BEGIN ISOLATION LEVEL '
                      'READ COMMITTED: at a higher level usage rows committed meanwhile '
                      'would not be deleted with it.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION delete_usage_of_deleted_api_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM require_read_committed_for_usage_cascade('api keys');
    DELETE FROM api_key_usage u USING deleted_api_keys d WHERE u.api_key_id = d.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delete_jwt_usage_of_deleted_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM require_read_committed_for_usage_cascade('users');
    DELETE FROM jwt_usage u USING deleted_users d WHERE u.user_id = d.id;
    RETURN NULL;
END
$$;
