-- Failure limits count attempts being checked (so concurrent guesses share the limit), and
-- their locks grow with each repeated lock of a key.
ALTER TABLE signin_failures ADD COLUMN strikes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signin_failures ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signin_failures ADD COLUMN pending_until BIGINT NOT NULL DEFAULT 0;
