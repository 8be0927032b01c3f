-- +goose Up
-- Supporters: people registered through an organisation's public invite who
-- are not (yet) members. They rank below a member.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check,
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('supporter', 'member', 'activist', 'infoworker', 'chair', 'admin'));
ALTER TABLE invites DROP CONSTRAINT invites_role_check,
    ADD CONSTRAINT invites_role_check CHECK (role IN ('supporter', 'member', 'activist', 'infoworker', 'chair', 'admin'));

-- +goose Down
DELETE FROM memberships WHERE role = 'supporter';
DELETE FROM invites WHERE role = 'supporter';
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check,
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin'));
ALTER TABLE invites DROP CONSTRAINT invites_role_check,
    ADD CONSTRAINT invites_role_check CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin'));
