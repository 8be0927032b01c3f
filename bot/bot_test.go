package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/storage"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, cmd, args string }{
		{"/start", "start", ""},
		{"/start AbC_-123", "start", "AbC_-123"},
		{"/Bind@UnionHub_Bot  edu-5 ", "bind", "edu-5"},
		{"  /link  ABCD EFGH", "link", "ABCD EFGH"},
		{"hello /start", "", ""},
		{"/", "", ""},
		{"/@bot", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		cmd, args := ParseCommand(tt.in)
		if cmd != tt.cmd || args != tt.args {
			t.Errorf("ParseCommand(%q) = %q, %q; want %q, %q", tt.in, cmd, args, tt.cmd, tt.args)
		}
	}
}

func TestRouterRoutesCommandsButtonsAndTheRest(t *testing.T) {
	t.Parallel()
	var got []string
	rec := func(name string) HandlerFunc {
		return func(context.Context, *Update) error { got = append(got, name); return nil }
	}
	r := NewRouter(rec("fallback"))
	r.Command("start", rec("start"))
	r.Callback("appr", rec("appr"))
	r.Use(func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error { got = append(got, "outer"); return next(ctx, u) }
	}, func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error { got = append(got, "inner"); return next(ctx, u) }
	})
	h := r.Handler()
	for _, u := range []*Update{
		{Command: "start"},
		{Command: "nope"},
		{Callback: &Callback{Data: "appr:12:y"}},
		{Callback: &Callback{Data: "appr"}},
		{Callback: &Callback{Data: "apprX:1"}},
		{Text: "hello"},
	} {
		if err := h(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	want := "outer inner start outer inner fallback outer inner appr outer inner appr outer inner fallback outer inner fallback"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("route order:\n got %s\nwant %s", s, want)
	}
}

func TestRecoverTurnsAPanicIntoAnError(t *testing.T) {
	t.Parallel()
	h := Recover()(func(context.Context, *Update) error { panic("boom") })
	err := h(context.Background(), &Update{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
}

func TestDispatcherKeepsEachChatInOrderAndRunsChatsInParallel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]int{}
	release := make(chan struct{})
	h := func(_ context.Context, u *Update) error {
		if u.Chat.ID == "slow" {
			<-release
		}
		mu.Lock()
		defer mu.Unlock()
		var n int
		if _, err := fmt.Sscan(u.Text, &n); err != nil {
			return err
		}
		seen[u.Chat.ID] = append(seen[u.Chat.ID], n)
		return nil
	}
	d := NewDispatcher(h, 8, time.Second)
	var results []<-chan error
	results = append(results, d.Deliver(context.Background(), Update{Platform: Telegram, Chat: Chat{ID: "slow"}, Text: "0"}))
	for chat := range 4 {
		for i := range 50 {
			results = append(results, d.Deliver(context.Background(), Update{Platform: Telegram, Chat: Chat{ID: fmt.Sprint("c", chat)}, Text: fmt.Sprint(i)}))
		}
	}
	// Chats that do not share the slow chat's worker finish while it is blocked.
	deadline := time.After(5 * time.Second)
	for {
		mu.Lock()
		done := 0
		for chat := range 4 {
			if len(seen[fmt.Sprint("c", chat)]) == 50 {
				done++
			}
		}
		mu.Unlock()
		if done >= 1 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("no chat progressed while another chat's handler was blocked")
		case <-time.After(5 * time.Millisecond):
		}
	}
	close(release)
	for _, r := range results {
		if err := <-r; err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	for chat, got := range seen {
		for i, n := range got {
			if n != i {
				t.Fatalf("chat %s handled out of order: %v", chat, got)
			}
		}
	}
}

func TestDispatcherCloseFinishesQueuedUpdatesAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	handled := 0
	d := NewDispatcher(func(context.Context, *Update) error {
		time.Sleep(time.Millisecond)
		mu.Lock()
		handled++
		mu.Unlock()
		return nil
	}, 2, time.Second)
	for i := range 40 {
		d.Deliver(context.Background(), Update{Chat: Chat{ID: fmt.Sprint(i % 3)}})
	}
	d.Close()
	if handled != 40 {
		t.Fatalf("handled %d of 40 queued updates before Close returned", handled)
	}
	if err := <-d.Deliver(context.Background(), Update{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Deliver after Close = %v, want ErrClosed", err)
	}
}

func TestDispatcherReturnsTheHandlersOutcome(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	d := NewDispatcher(func(_ context.Context, u *Update) error {
		if u.Text == "fail" {
			return boom
		}
		return nil
	}, 1, time.Second)
	defer d.Close()
	if err := <-d.Deliver(context.Background(), Update{Text: "fail"}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if err := <-d.Deliver(context.Background(), Update{Text: "ok"}); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func TestPrefixedMovesFormatAlong(t *testing.T) {
	t.Parallel()
	text, format := Prefixed("📰 Союз\n\n", "Сбор подписей", []Span{{Kind: "bold", Offset: 0, Length: 4}})
	if text != "📰 Союз\n\nСбор подписей" || len(format) != 1 || format[0].Offset != 9 || format[0].Length != 4 {
		t.Fatalf("Prefixed = %q, %+v", text, format)
	}
	if units := utf16.Encode([]rune(text)); string(utf16.Decode(units[9:13])) != "Сбор" {
		t.Errorf("the span covers %q", string(utf16.Decode(units[9:13])))
	}
	if _, none := Prefixed("a", "b", nil); none != nil {
		t.Errorf("plain text got format %+v", none)
	}
}

func TestPlainTextKeepsTheAddressOfEveryTextLink(t *testing.T) {
	t.Parallel()
	text := "🔥 Митинг: читайте здесь и там."
	at := func(sub string) (int, int) {
		i := strings.Index(text, sub)
		return storage.UTF16Len(text[:i]), storage.UTF16Len(sub)
	}
	here, hereLen := at("здесь")
	there, thereLen := at("там")
	bold, boldLen := at("Митинг")
	format := []Span{
		{Kind: "text_link", Offset: there, Length: thereLen, URL: "https://b.example/"},
		{Kind: "bold", Offset: bold, Length: boldLen},
		{Kind: "text_link", Offset: here, Length: hereLen, URL: "https://a.example/"},
	}
	want := "🔥 Митинг: читайте здесь (https://a.example/) и там (https://b.example/)."
	if got := PlainText(text, format); got != want {
		t.Errorf("PlainText = %q, want %q", got, want)
	}
	if got := PlainText(text, format[1:2]); got != text {
		t.Errorf("PlainText without links = %q, want the text", got)
	}
}

func TestValidateMessage(t *testing.T) {
	t.Parallel()
	row := func(n int) []Button {
		r := make([]Button, n)
		for i := range r {
			r[i] = Button{Text: "b", Data: "d"}
		}
		return r
	}
	tests := []struct {
		name string
		m    Message
		ok   bool
	}{
		{"plain", Message{Text: "Привет 👋"}, true},
		{"4096 cyrillic runes", Message{Text: strings.Repeat("я", 4096)}, true},
		{"4097 runes", Message{Text: strings.Repeat("я", 4097)}, false},
		{"2049 emoji are 4098 UTF-16 units", Message{Text: strings.Repeat("😀", 2049)}, false},
		{"2048 emoji", Message{Text: strings.Repeat("😀", 2048)}, true},
		{"6 rows of 5", Message{Text: "x", Keyboard: Keyboard{row(5), row(5), row(5), row(5), row(5), row(5)}}, true},
		{"7 rows", Message{Text: "x", Keyboard: Keyboard{row(1), row(1), row(1), row(1), row(1), row(1), row(1)}}, false},
		{"6 in a row", Message{Text: "x", Keyboard: Keyboard{row(6)}}, false},
		{"65-byte data", Message{Text: "x", Keyboard: Keyboard{{{Text: "b", Data: strings.Repeat("a", 65)}}}}, false},
		{"bold over an emoji", Message{Text: "Сбор 📣", Format: []Span{{Kind: "bold", Offset: 5, Length: 2}}}, true},
		{"span past the end in UTF-16", Message{Text: "Сбор 📣", Format: []Span{{Kind: "bold", Offset: 5, Length: 3}}}, false},
		{"empty span", Message{Text: "x", Format: []Span{{Kind: "italic", Offset: 0, Length: 0}}}, false},
		{"negative offset", Message{Text: "x", Format: []Span{{Kind: "italic", Offset: -1, Length: 1}}}, false},
		{"unknown kind", Message{Text: "x", Format: []Span{{Kind: "mention", Offset: 0, Length: 1}}}, false},
		{"link", Message{Text: "сайт", Format: []Span{{Kind: "text_link", Offset: 0, Length: 4, URL: "https://example.org"}}}, true},
		{"link to a script", Message{Text: "сайт", Format: []Span{{Kind: "text_link", Offset: 0, Length: 4, URL: "javascript:alert(1)"}}}, false},
		{"bold with a URL", Message{Text: "x", Format: []Span{{Kind: "bold", Offset: 0, Length: 1, URL: "https://example.org"}}}, false},
		{"upload without text", Message{Upload: &Upload{Name: "chart.png", Data: []byte{1}}}, true},
		{"upload without data", Message{Text: "x", Upload: &Upload{Name: "chart.png"}}, false},
		{"upload of 10 MiB", Message{Upload: &Upload{Data: make([]byte, MaxUploadBytes)}}, true},
		{"upload over 10 MiB", Message{Upload: &Upload{Data: make([]byte, MaxUploadBytes+1)}}, false},
	}
	for _, tt := range tests {
		if err := ValidateMessage(tt.m); (err == nil) != tt.ok {
			t.Errorf("%s: ValidateMessage = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestUploadFileName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, want string }{{"", "image.png"}, {"chart.png", "chart.png"}} {
		if got := (&Upload{Name: tt.name}).FileName(); got != tt.want {
			t.Errorf("FileName of %q = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDispatcherTakesAnUpdateFromAnEndingContextWhileThereIsRoom(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	handled := 0
	d := NewDispatcher(func(context.Context, *Update) error {
		mu.Lock()
		handled++
		mu.Unlock()
		return nil
	}, 1, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 {
		d.Deliver(ctx, Update{Chat: Chat{ID: "1"}})
	}
	d.Close()
	if handled != 50 {
		t.Fatalf("handled %d of 50 updates delivered with a cancelled context", handled)
	}
}
