-- +goose Up
-- The org's weekly notice-board reminder (standard cron in its time zone);
-- '' leaves it to the deployment's default.
ALTER TABLE orgs ADD COLUMN board_cron TEXT NOT NULL DEFAULT '';

CREATE TABLE survey_runs (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id TEXT NOT NULL,
    -- The schedule that fired the run and for when: a replica or a catch-up
    -- firing the same slot again finds the run there.
    job       TEXT NOT NULL,
    fired_for TIMESTAMPTZ NOT NULL,
    org_id    BIGINT NOT NULL REFERENCES orgs (id),
    -- Comma-joined roles ("activist,chair").
    roles     TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    deadline  TIMESTAMPTZ NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at TIMESTAMPTZ,
    UNIQUE (job, fired_for)
);
-- Queries name status 'open' literally, so that both planners use this.
CREATE INDEX survey_runs_open_idx ON survey_runs (opened_at, id) WHERE status = 'open';
CREATE INDEX survey_runs_survey_id_idx ON survey_runs (survey_id, opened_at);

CREATE TABLE survey_targets (
    run_id         BIGINT NOT NULL REFERENCES survey_runs (id),
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    reminders_sent INTEGER NOT NULL DEFAULT 0 CHECK (reminders_sent >= 0),
    -- NULL until confirmed, and once the person is forgotten; submitted_at stays.
    submitted_by   BIGINT REFERENCES people (id),
    submitted_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, org_id)
);
CREATE INDEX survey_targets_org_id_idx ON survey_targets (org_id);
CREATE INDEX survey_targets_submitted_by_idx ON survey_targets (submitted_by);

CREATE TABLE survey_answers (
    run_id      BIGINT NOT NULL,
    org_id      BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    -- NULL once the person is forgotten.
    person_id   BIGINT REFERENCES people (id),
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, org_id, question_id),
    FOREIGN KEY (run_id, org_id) REFERENCES survey_targets (run_id, org_id)
);
CREATE INDEX survey_answers_person_id_idx ON survey_answers (person_id);

CREATE TABLE board_checks (
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    -- The reminder's scheduled time; the week runs seven days from it.
    week          TIMESTAMPTZ NOT NULL,
    reminded_at   TIMESTAMPTZ NOT NULL,
    -- '' until someone answered.
    answer        TEXT NOT NULL DEFAULT '' CHECK (answer IN ('', 'updated', 'no_board')),
    -- NULL once the person is forgotten.
    answered_by   BIGINT REFERENCES people (id),
    answered_at   TIMESTAMPTZ,
    snoozed_until TIMESTAMPTZ,
    PRIMARY KEY (org_id, week)
);
CREATE INDEX board_checks_week_idx ON board_checks (week);
-- Only the few snoozed rows, which the claim walks by time.
CREATE INDEX board_checks_snoozed_idx ON board_checks (snoozed_until) WHERE snoozed_until IS NOT NULL;
CREATE INDEX board_checks_answered_by_idx ON board_checks (answered_by);

CREATE TABLE targets (
    org_id    BIGINT NOT NULL REFERENCES orgs (id),
    -- "2026"
    period    TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (org_id, period, indicator)
);
CREATE INDEX targets_period_idx ON targets (period);

CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    fired_for   TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    -- '' while running, then 'ok' or the error.
    outcome     TEXT NOT NULL DEFAULT '',
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (job, fired_for)
);

-- +goose Down
DROP TABLE job_runs;
DROP TABLE targets;
DROP TABLE board_checks;
DROP TABLE survey_answers;
DROP TABLE survey_targets;
DROP TABLE survey_runs;
ALTER TABLE orgs DROP COLUMN board_cron;
