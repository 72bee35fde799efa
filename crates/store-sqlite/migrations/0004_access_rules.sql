-- Who may reach which protected application (forward auth at the reverse proxy). The first
-- rule in `position` order that matches a request decides; `rule` is its definition as the
-- server validated it (JSON: host, pathPrefix, methods, and allow / deny / public).
CREATE TABLE access_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position BIGINT NOT NULL,
    rule TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX access_rules_by_position ON access_rules (position);
