-- Failure limits count attempts being checked (so concurrent guesses share the limit), and
-- their locks grow with each repeated lock of a key.
ALTER TABLE signin_failures ADD COLUMN strikes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signin_failures ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signin_failures ADD COLUMN pending_until BIGINT NOT NULL DEFAULT 0;

-- A DingTalk round trip started from "My account" links the identity to that signed-in user.
ALTER TABLE oauth_states ADD COLUMN link_user_id BIGINT;

-- Repeated failures from one address are merged into the latest such entry of the last
-- minute: found among that address's newest entries of the event.
CREATE INDEX audit_log_ip_event_idx ON audit_log (ip, event, at, id);
