package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"
)

// HandlerFunc handles one update.
type HandlerFunc func(ctx context.Context, u *Update) error

// Middleware wraps a handler.
type Middleware func(next HandlerFunc) HandlerFunc

// Router sends commands, button presses and everything else to their handlers.
type Router struct {
	middleware []Middleware
	commands   map[string]HandlerFunc
	callbacks  map[string]HandlerFunc
	fallback   HandlerFunc
}

// NewRouter returns a router whose unrouted updates go to fallback.
func NewRouter(fallback HandlerFunc) *Router {
	return &Router{
		commands:  map[string]HandlerFunc{},
		callbacks: map[string]HandlerFunc{},
		fallback:  fallback,
	}
}

// Use adds middleware; the first added runs outermost.
func (r *Router) Use(mw ...Middleware) { r.middleware = append(r.middleware, mw...) }

// Command routes /name.
func (r *Router) Command(name string, h HandlerFunc) { r.commands[name] = h }

// Callback routes button presses whose data is prefix or starts with "prefix:".
func (r *Router) Callback(prefix string, h HandlerFunc) { r.callbacks[prefix] = h }

// Callbacks lists the button data prefixes that have a route, sorted.
func (r *Router) Callbacks() []string {
	out := make([]string, 0, len(r.callbacks))
	for prefix := range r.callbacks {
		out = append(out, prefix)
	}
	slices.Sort(out)
	return out
}

// Has reports whether command has a route.
func (r *Router) Has(command string) bool {
	_, ok := r.commands[command]
	return ok
}

// Handler returns the routed handler wrapped in the middleware.
func (r *Router) Handler() HandlerFunc {
	h := r.route
	for i := len(r.middleware) - 1; i >= 0; i-- {
		h = r.middleware[i](h)
	}
	return h
}

func (r *Router) route(ctx context.Context, u *Update) error {
	if u.Callback != nil {
		prefix, _, _ := strings.Cut(u.Callback.Data, ":")
		if h, ok := r.callbacks[prefix]; ok {
			return h(ctx, u)
		}
		return r.fallback(ctx, u)
	}
	if h, ok := r.commands[u.Command]; ok && u.Command != "" {
		return h(ctx, u)
	}
	return r.fallback(ctx, u)
}

// ParseCommand splits "/Name@bot args" into "name" and "args"; text that is
// not a command gives empty strings.
func ParseCommand(text string) (command, args string) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest := text[1:], ""
	if i := strings.IndexFunc(head, unicode.IsSpace); i >= 0 {
		head, rest = head[:i], head[i:]
	}
	head, _, _ = strings.Cut(head, "@")
	if head == "" {
		return "", ""
	}
	return strings.ToLower(head), strings.TrimSpace(rest)
}

// Answer acknowledges the press u carries, once: the first call answers it
// (with text as a short notice when set), later calls do nothing. A platform
// keeps a press spinning until it is answered and refuses a second answer,
// so every answer goes through here.
func Answer(ctx context.Context, s Sender, u *Update, text string) error {
	if u.Callback == nil || !u.Callback.answered.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.AnswerCallback(ctx, u, text); err != nil {
		return fmt.Errorf("answer press: %w", err)
	}
	return nil
}

// AnswerPresses answers every press its handler left unanswered, with no
// notice, after the handler returns (also when it failed): no button can
// forget to stop its spinner.
func AnswerPresses(senderOf func(Platform) (Sender, bool), logger *slog.Logger) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error {
			err := next(ctx, u)
			if u.Callback == nil {
				return err
			}
			s, ok := senderOf(u.Platform)
			if !ok {
				return err
			}
			if aerr := Answer(context.WithoutCancel(ctx), s, u, ""); aerr != nil {
				logger.WarnContext(ctx, "answer press", "update", u.ID, "err", aerr)
			}
			return err
		}
	}
}
