-- The usage of a deleted API key or user is deleted with it, as the other backends'
-- triggers of this version do (the usage tables have no foreign keys: the store checks the
-- key or user once per insert statement).
--
-- MySQL and MariaDB do not fire triggers for rows deleted by a foreign key's ON DELETE
-- CASCADE, and a user's API keys go that way. So deleting a user deletes, BEFORE its row
-- goes (while its keys still exist), the usage of its keys and its JWT usage; deleting a
-- key by itself deletes its usage after. Both run per row, inside the deleting statement.
--
-- The user's keys are locked FOR UPDATE first, before any usage row: a usage insert locks
-- its key (LOCK IN SHARE MODE) and then inserts, so taking the keys before the usage keeps
-- one order (user, keys, usage) and the two wait for each other instead of deadlocking
-- (error 1213: the delete held the usage range while the insert held the key).
CREATE TRIGGER users_delete_jwt_usage BEFORE DELETE ON users FOR EACH ROW
BEGIN
    DECLARE locked_keys BIGINT;
    SELECT COUNT(*) INTO locked_keys FROM api_keys WHERE user_id = OLD.id FOR UPDATE;
    DELETE FROM api_key_usage
    WHERE api_key_id IN (SELECT k.id FROM api_keys k WHERE k.user_id = OLD.id);
    DELETE FROM jwt_usage WHERE user_id = OLD.id;
END;

CREATE TRIGGER api_keys_delete_usage AFTER DELETE ON api_keys FOR EACH ROW
BEGIN
    DELETE FROM api_key_usage WHERE api_key_id = OLD.id;
END;
