package news

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/storage"
)

// Tracker sends the links of delivered news through the hub's own short
// links, one per recipient and link, and counts their opens: how many
// people a news item moved to read further (the engagement indicator).
type Tracker struct {
	store  TrackerStore
	base   string
	share  func(p storage.Platform, text string) string
	clock  func() time.Time
	logger *slog.Logger

	mu  sync.Mutex
	key []byte
}

// TrackerStore is what the tracker reads and writes.
type TrackerStore interface {
	HubKey(ctx context.Context, name string, fresh []byte) ([]byte, error)
	LinkTarget(ctx context.Context, deliveryID int64) (storage.LinkTarget, error)
	Broadcast(ctx context.Context, id int64) (storage.Broadcast, error)
	RecordLinkOpen(ctx context.Context, deliveryID int64, link int, at time.Time) (bool, error)
}

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	Store TrackerStore
	// BaseURL is the hub's address as recipients' browsers reach it; the
	// short links are BaseURL/l/TOKEN.
	BaseURL string
	// Share is where a news item's Share button leads on a platform.
	Share  func(p storage.Platform, text string) string
	Clock  func() time.Time
	Logger *slog.Logger
}

// NewTracker returns a tracker; a nil Clock or Logger gets a default.
func NewTracker(c TrackerConfig) *Tracker {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Tracker{store: c.Store, base: strings.TrimRight(c.BaseURL, "/"), share: c.Share, clock: c.Clock, logger: c.Logger}
}

// LinkOpenKeep is how long who opened which link is kept; after it only
// the counts by broadcast and organisation stay.
const LinkOpenKeep = 90 * 24 * time.Hour

// linkKeyName is the hub key that signs short links.
const linkKeyName = "links"

// maxTextUnits is Telegram's limit on a message's text, in UTF-16 units: a
// text the short links would make longer than that keeps its own links.
const maxTextUnits = 4096

// signingKey is the key shared by the replicas, made by the first.
func (t *Tracker) signingKey(ctx context.Context) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.key != nil {
		return t.key, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("make link key: %w", err)
	}
	key, err := t.store.HubKey(ctx, linkKeyName, fresh)
	if err != nil {
		return nil, fmt.Errorf("load link key: %w", err)
	}
	t.key = key
	return key, nil
}

// token names link number link of a delivery, signed so that nobody can
// count an open by changing a number.
func token(key []byte, deliveryID int64, link int) string {
	code := "s"
	if link != storage.LinkShare {
		code = strconv.Itoa(link)
	}
	payload := strconv.FormatInt(deliveryID, 36) + "." + code
	return payload + "." + signature(key, payload)
}

func signature(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:9])
}

// parseToken checks a token's signature and reads it.
func parseToken(key []byte, tok string) (deliveryID int64, link int, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(parts[2]), []byte(signature(key, parts[0]+"."+parts[1]))) {
		return 0, 0, false
	}
	id, err := strconv.ParseInt(parts[0], 36, 64)
	if err != nil || id <= 0 {
		return 0, 0, false
	}
	if parts[1] == "s" {
		return id, storage.LinkShare, true
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		return 0, 0, false
	}
	return id, n, true
}

// ShortLink is the short link of a delivery's link number link
// (storage.LinkShare: its Share button); ok is false when the key cannot
// be had, and the caller keeps the link as it is.
func (t *Tracker) ShortLink(ctx context.Context, deliveryID int64, link int) (string, bool) {
	key, err := t.signingKey(ctx)
	if err != nil {
		t.logger.WarnContext(ctx, "news links go out as they are", "err", err)
		return "", false
	}
	return t.base + "/l/" + token(key, deliveryID, link), true
}

// Rewrite sends every http(s) link of a delivery's text through its short
// link: text links get a new address, links written out are replaced in
// the text, the formatting moved along. A text that would grow past what a
// message holds keeps its links.
func (t *Tracker) Rewrite(ctx context.Context, deliveryID int64, text string, format []storage.Span) (string, []storage.Span) {
	found := findLinks(text, format)
	if len(found) == 0 {
		return text, format
	}
	short := make([]string, len(found))
	for i := range found {
		s, ok := t.ShortLink(ctx, deliveryID, i)
		if !ok {
			return text, format
		}
		short[i] = s
	}
	units := utf16.Encode([]rune(text))
	spans := slices.Clone(format)
	for i := len(found) - 1; i >= 0; i-- {
		f := found[i]
		if f.span >= 0 {
			spans[f.span].URL = short[i]
			continue
		}
		repl := utf16.Encode([]rune(short[i]))
		units = slices.Concat(units[:f.start], repl, units[f.end:])
		for k := range spans {
			spans[k] = moveSpan(spans[k], f.start, f.end, len(repl))
		}
	}
	if len(units) > maxTextUnits && storage.UTF16Len(text) <= maxTextUnits {
		return text, format
	}
	return string(utf16.Decode(units)), spans
}

// moveSpan is s after the units [start, end) became n units.
func moveSpan(s storage.Span, start, end, n int) storage.Span {
	at := func(p int, isEnd bool) int {
		switch {
		case p <= start:
			return p
		case p >= end:
			return p + n - (end - start)
		case isEnd:
			return start + n
		default:
			return start
		}
	}
	from, to := at(s.Offset, false), at(s.Offset+s.Length, true)
	s.Offset, s.Length = from, to-from
	return s
}

// Targets lists the http(s) links of a text in the order of the short
// links' numbers.
func Targets(text string, format []storage.Span) []string {
	found := findLinks(text, format)
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.url
	}
	return out
}

// foundLink is a link of a text: a text link (span, its index in the
// formatting) or one written out (span -1), over UTF-16 units [start, end).
type foundLink struct {
	start, end int
	span       int
	url        string
}

// writtenLink is an address written out in a text.
var writtenLink = regexp.MustCompile(`https?://[^\s<>"«»]+`)

// findLinks finds a text's http(s) links in order: its text links, and the
// addresses written out outside them, without the punctuation that ends
// a sentence.
func findLinks(text string, format []storage.Span) []foundLink {
	var out []foundLink
	for i, s := range format {
		if s.Kind == storage.SpanLink && (strings.HasPrefix(s.URL, "https://") || strings.HasPrefix(s.URL, "http://")) {
			out = append(out, foundLink{start: s.Offset, end: s.Offset + s.Length, span: i, url: s.URL})
		}
	}
	for _, m := range writtenLink.FindAllStringIndex(text, -1) {
		u := trimLinkEnd(text[m[0]:m[1]])
		start := storage.UTF16Len(text[:m[0]])
		end := start + storage.UTF16Len(u)
		inside := slices.ContainsFunc(out, func(f foundLink) bool { return f.span >= 0 && start < f.end && f.start < end })
		if !inside && len(u) > len("https://") {
			out = append(out, foundLink{start: start, end: end, span: -1, url: u})
		}
	}
	slices.SortStableFunc(out, func(a, b foundLink) int { return a.start - b.start })
	return out
}

// trimLinkEnd drops what ends a sentence after an address: a full stop, a
// comma, a closing bracket it did not open.
func trimLinkEnd(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// Open finds where a short link leads and, when count is set, counts the
// recipient's open (once per recipient and link). A token that is not the
// hub's, or names a link that is not there, is storage.ErrNotFound.
func (t *Tracker) Open(ctx context.Context, tok string, count bool) (string, error) {
	key, err := t.signingKey(ctx)
	if err != nil {
		return "", err
	}
	id, link, ok := parseToken(key, tok)
	if !ok {
		return "", fmt.Errorf("read short link %q: %w", tok, storage.ErrNotFound)
	}
	target, err := t.store.LinkTarget(ctx, id)
	if err != nil {
		return "", fmt.Errorf("open short link: %w", err)
	}
	b, err := t.store.Broadcast(ctx, target.BroadcastID)
	if err != nil {
		return "", fmt.Errorf("open short link: %w", err)
	}
	var dest string
	switch urls := Targets(b.Text, b.Format); {
	case link == storage.LinkShare && t.share != nil:
		dest = t.share(target.Platform, b.Text)
	case link >= 0 && link < len(urls):
		dest = urls[link]
	}
	if dest == "" {
		return "", fmt.Errorf("open link %d of delivery %d: %w", link, id, storage.ErrNotFound)
	}
	if count {
		// The recipient reaches the page even when the count is lost.
		if _, err := t.store.RecordLinkOpen(ctx, id, link, t.clock()); err != nil {
			t.logger.WarnContext(ctx, "count a link open", "delivery", id, "err", err)
		}
	}
	return dest, nil
}

// previewAgents are the User-Agents of the robots that fetch a link to
// show its preview (Telegram's, VK's, and the networks a Share reaches):
// they open no link of a person's.
var previewAgents = []string{"TelegramBot", "vkShare", "facebookexternalhit", "Twitterbot", "WhatsApp", "Slackbot", "Discordbot", "Viber"}

// IsPreviewFetcher tells whether a request with this User-Agent comes from
// a robot fetching a link preview.
func IsPreviewFetcher(userAgent string) bool {
	return slices.ContainsFunc(previewAgents, func(a string) bool { return strings.Contains(userAgent, a) })
}
