-- +goose Up
-- The Union's staff hold the admin role in the root organisation.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check,
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin'));
ALTER TABLE invites DROP CONSTRAINT invites_role_check,
    ADD CONSTRAINT invites_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin'));

-- +goose Down
DELETE FROM memberships WHERE role = 'admin';
DELETE FROM invites WHERE role = 'admin';
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check,
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair'));
ALTER TABLE invites DROP CONSTRAINT invites_role_check,
    ADD CONSTRAINT invites_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair'));
