-- +goose Up
-- Photos and documents uploaded in the console for news. The bytes are
-- kept until a broadcast carries them (a file no broadcast took is pruned
-- after a day); each platform's own reference to a broadcast's file is
-- learned from its first delivery there, and every later delivery sends
-- the file again by it.
CREATE TABLE news_files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL once the uploader is forgotten.
    person_id  INTEGER REFERENCES people (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    size       INTEGER NOT NULL CHECK (size > 0),
    sha256     TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX news_files_created_at_idx ON news_files (created_at);
CREATE INDEX news_files_person_id_idx ON news_files (person_id);

ALTER TABLE broadcasts ADD COLUMN file_id INTEGER REFERENCES news_files (id);
CREATE INDEX broadcasts_file_id_idx ON broadcasts (file_id) WHERE file_id IS NOT NULL;

CREATE TABLE broadcast_file_refs (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    platform     TEXT NOT NULL,
    -- Telegram's file_id; VK's "photo<owner>_<id>_<key>" or "doc...".
    ref          TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, platform)
) STRICT;

-- +goose Down
DROP TABLE broadcast_file_refs;
DROP INDEX broadcasts_file_id_idx;
ALTER TABLE broadcasts DROP COLUMN file_id;
DROP TABLE news_files;
