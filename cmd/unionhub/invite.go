package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

func (a *app) invite(ctx context.Context, args []string) error {
	switch {
	case len(args) == 2 && args[0] == "list":
		return a.inviteList(ctx, args[1])
	case len(args) == 2 && args[0] == "revoke":
		return a.inviteRevoke(ctx, args[1])
	case len(args) >= 1 && !strings.HasPrefix(args[0], "-"):
		return a.inviteCreate(ctx, args[0], args[1:])
	}
	return usageError{"usage: unionhub invite ORG --role ROLE [--uses N] [--expires 30d] [--out DIR] | invite list ORG | invite revoke CODE"}
}

func (a *app) inviteCreate(ctx context.Context, orgCode string, args []string) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", "", "supporter (the org's public invite), member, activist, infoworker, chair or admin (the Union's staff, root organisation only)")
	uses := fs.Int("uses", 0, "how many people may register with it (default: 1 above member, unlimited for members)")
	expires := fs.String("expires", "30d", "lifetime such as 30d, 2w, 12h, or never (a supporter invite: never)")
	out := fs.String("out", ".", "directory for the QR code PNG files")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if *role == "" {
		return usageError{"--role is required: supporter, member, activist, infoworker, chair or admin"}
	}
	ttl, err := parseLifetime(*expires)
	if err != nil {
		return usageError{err.Error()}
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "expires" })
	if !given {
		ttl = 0 // the role's default: 30 days, a public (supporter) invite until revoked
	}
	links, err := a.links(ctx)
	if err != nil {
		return err
	}
	// Fail before the invite exists rather than after, when its QR codes
	// cannot be written.
	if err := writableDir(*out); err != nil {
		return err
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	inv, org, err := a.orgTree(db).CreateInvite(ctx, orgs.InviteRequest{OrgCode: orgCode, Role: storage.Role(*role), Uses: *uses, TTL: ttl})
	if errors.Is(err, storage.ErrNotFound) {
		return usageError{fmt.Sprintf("no organisation with code %q (see unionhub org list)", orgCode)}
	}
	if err != nil {
		return err
	}
	a.printf("invite %s: %s, role %s, %s, %s\n", inv.Code, org.Name, inv.Role, describeUses(inv), describeExpiry(inv))
	for _, l := range []struct{ platform, url string }{
		{"telegram", links.Telegram(inv.Code)}, {"vk", links.VK(inv.Code)},
	} {
		if l.url == "" {
			continue
		}
		path := filepath.Join(*out, fmt.Sprintf("invite-%s-%s-%s.png", org.Code, inv.Role, l.platform))
		if err := qrcode.WriteFile(l.url, qrcode.Medium, 512, path); err != nil {
			return fmt.Errorf("write QR code: %w", err)
		}
		a.printf("%-8s %s\n         QR code: %s\n", l.platform, l.url, path)
	}
	if links.Telegram("x") == "" && links.VK("x") == "" {
		a.printf("no platform link could be built: set TELEGRAM_BOT_USERNAME (or TELEGRAM_TOKEN) and/or VK_GROUP_ID\n")
	}
	return nil
}

func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create QR directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".unionhub-probe-*")
	if err != nil {
		return fmt.Errorf("QR directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// links learns the bot's public names: from the environment, else by asking
// Telegram who the bot is.
func (a *app) links(ctx context.Context) (handlers.Links, error) {
	l := handlers.Links{TelegramBot: a.cfg.TelegramBotUsername, VKGroup: a.cfg.VKGroupScreenName}
	if l.VKGroup == "" && a.cfg.VKGroupID != 0 {
		l.VKGroup = "club" + strconv.Itoa(a.cfg.VKGroupID)
	}
	if l.TelegramBot == "" && a.cfg.TelegramToken != "" {
		tg, err := telegram.New(ctx, telegram.Config{Token: a.cfg.TelegramToken, APIURL: a.cfg.TelegramAPIURL, Logger: a.logger})
		if err != nil {
			return l, fmt.Errorf("ask Telegram for the bot username (or set TELEGRAM_BOT_USERNAME): %w", err)
		}
		l.TelegramBot = tg.Username()
	}
	return l, nil
}

// parseLifetime reads 30d, 2w, 12h, 90m or never (a negative duration).
func parseLifetime(s string) (time.Duration, error) {
	if s == "never" {
		return -1, nil
	}
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if len(s) >= 2 {
		if unit, ok := units[s[len(s)-1]]; ok {
			if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n > 0 {
				return time.Duration(n) * unit, nil
			}
		}
	}
	return 0, fmt.Errorf("--expires %q: use a number with m, h, d or w (such as 30d), or never", s)
}

func describeUses(inv storage.Invite) string {
	if inv.MaxUses == 0 {
		return fmt.Sprintf("used %d times, no limit", inv.Uses)
	}
	return fmt.Sprintf("used %d of %d", inv.Uses, inv.MaxUses)
}

func describeExpiry(inv storage.Invite) string {
	switch {
	case inv.RevokedAt != nil:
		return "revoked " + inv.RevokedAt.Format(time.DateTime)
	case inv.ExpiresAt == nil:
		return "never expires"
	}
	return "expires " + inv.ExpiresAt.Format(time.DateTime)
}

func (a *app) inviteList(ctx context.Context, orgCode string) error {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	org, invites, err := a.orgTree(db).Invites(ctx, orgCode)
	if errors.Is(err, storage.ErrNotFound) {
		return usageError{fmt.Sprintf("no organisation with code %q (see unionhub org list)", orgCode)}
	}
	if err != nil {
		return err
	}
	for _, inv := range invites {
		a.printf("%s  %-10s  %s, %s\n", inv.Code, inv.Role, describeUses(inv), describeExpiry(inv))
	}
	if len(invites) == 0 {
		a.printf("no invites for %s\n", org.Code)
	}
	return nil
}

func (a *app) inviteRevoke(ctx context.Context, code string) error {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	err = a.orgTree(db).RevokeInvite(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return usageError{fmt.Sprintf("no invite with code %q", code)}
	}
	if err != nil {
		return err
	}
	a.printf("invite %s revoked\n", code)
	return nil
}
