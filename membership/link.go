package membership

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// LinkCodeTTL is how long a one-time account-linking code lives.
const LinkCodeTTL = 15 * time.Minute

// Guessing link codes is bounded per account.
const (
	maxLinkFailures   = 5
	linkFailureWindow = time.Hour
)

// linkAlphabet avoids letters and digits that read alike (0/O, 1/I).
const linkAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

var (
	// ErrLinkCodeInvalid is a link code that is unknown, used or expired.
	ErrLinkCodeInvalid = errors.New("link code invalid")
	// ErrTooManyLinkFailures refuses an account that got codes wrong too
	// often lately.
	ErrTooManyLinkFailures = errors.New("too many wrong link codes")
)

// NewLinkCode gives the acting person a one-time code that attaches their
// account on another platform.
func (s *Service) NewLinkCode(ctx context.Context, by access.Actor) (storage.LinkCode, error) {
	lc := storage.LinkCode{Code: newLinkCode(), PersonID: by.PersonID, ExpiresAt: s.clock().Add(LinkCodeTTL)}
	if err := s.store.CreateLinkCode(ctx, lc); err != nil {
		return storage.LinkCode{}, fmt.Errorf("create link code: %w", err)
	}
	return lc, nil
}

// Link attaches acc to the person who asked for code, retyped in any case,
// with spaces or dashes, and returns that person. A wrong code is
// ErrLinkCodeInvalid and counts against the account: after a few within
// the hour it gets ErrTooManyLinkFailures. An account that is someone
// else's is storage.ErrAlreadyRegistered.
func (s *Service) Link(ctx context.Context, acc Account, code string) (storage.Person, error) {
	failKey := linkFailKey(acc.Platform, acc.ExternalID)
	failures, err := s.linkFailures(ctx, failKey)
	if err != nil {
		return storage.Person{}, err
	}
	if failures >= maxLinkFailures {
		return storage.Person{}, ErrTooManyLinkFailures
	}
	p, err := s.store.UseLinkCode(ctx, normalizeLinkCode(code), acc.Platform, acc.ExternalID, s.clock())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := s.state.Save(ctx, failKey, []byte(strconv.Itoa(failures+1)), linkFailureWindow); err != nil {
			return storage.Person{}, fmt.Errorf("count link failure: %w", err)
		}
		return storage.Person{}, ErrLinkCodeInvalid
	case err != nil:
		return storage.Person{}, fmt.Errorf("use link code: %w", err)
	}
	return p, nil
}

// linkFailKey names an account's count of wrong link codes.
func linkFailKey(p storage.Platform, externalID string) string {
	return "linkfail:" + string(p) + ":" + externalID
}

func (s *Service) linkFailures(ctx context.Context, key string) (int, error) {
	raw, ok, err := s.state.Load(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("load link failures: %w", err)
	}
	if !ok {
		return 0, nil
	}
	n, _ := strconv.Atoi(string(raw))
	return n, nil
}

// newLinkCode returns 8 characters (40 bits) that a person can retype.
func newLinkCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	for i := range b {
		b[i] = linkAlphabet[int(b[i])%len(linkAlphabet)]
	}
	return string(b)
}

// normalizeLinkCode accepts a retyped code in any case, with spaces or dashes.
func normalizeLinkCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}
