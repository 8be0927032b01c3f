-- +goose Up
-- When the newest invitation or reminder of a survey went to an org: an
-- upper level's "remind now" skips an org told less than a day before.
-- NULL: none yet, or the last one reached nobody and was given back.
ALTER TABLE survey_targets ADD COLUMN noticed_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE survey_targets DROP COLUMN noticed_at;
