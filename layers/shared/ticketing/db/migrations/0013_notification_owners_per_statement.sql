-- A notification's owner is checked once per statement instead of once per row (docs/decisions.md, "Fewer
-- index writes per seat, notification and ticket code"). The foreign key to users ran one lookup and took one
-- row lock per notification: at an event cancellation's 50,000 notifications (one per buyer), 0.6 s of the
-- cancelling transaction. The same rules now hold through statement-level triggers over transition tables,
-- as the booking status copies do (migration 0006):
--   * every notification written names an existing user, locked FOR KEY SHARE as the foreign key locked it,
--     so a user being deleted meanwhile is waited for and then seen gone: 23503, under the old key's name;
--   * deleting users deletes their notifications, as ON DELETE CASCADE did.

ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;

CREATE FUNCTION check_notification_owners() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owners bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT user_id) INTO owners FROM written_notifications;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM users u WHERE u.id IN (SELECT user_id FROM written_notifications) FOR KEY SHARE OF u) AS locked;
    IF found <> owners THEN
        RAISE EXCEPTION '% of % users named by notifications do not exist', owners - found, owners
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'notifications_user_id_fkey';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER notifications_owners_inserted
    AFTER INSERT ON notifications REFERENCING NEW TABLE AS written_notifications
    FOR EACH STATEMENT EXECUTE FUNCTION check_notification_owners();
CREATE TRIGGER notifications_owners_updated
    AFTER UPDATE ON notifications REFERENCING NEW TABLE AS written_notifications
    FOR EACH STATEMENT EXECUTE FUNCTION check_notification_owners();

CREATE FUNCTION delete_notifications_of_deleted_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM notifications n USING deleted_users d WHERE n.user_id = d.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_delete_their_notifications
    AFTER DELETE ON users REFERENCING OLD TABLE AS deleted_users
    FOR EACH STATEMENT EXECUTE FUNCTION delete_notifications_of_deleted_users();
