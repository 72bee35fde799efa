-- A DingTalk round trip started from "My account" links the identity to that signed-in user.
ALTER TABLE oauth_states ADD COLUMN link_user_id BIGINT;
