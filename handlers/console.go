package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
)

// cmdConsole gives a chair, an information worker or the Union's staff a
// one-time link into the staff console, in a new message of its own. The
// link is a secret: it goes to their private chat only, and no log holds
// it.
func (h *Hub) cmdConsole(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	l, err := h.SignIn.Issue(ctx, act)
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	return s.ask(ctx, s.plural("console.bot_link", int(signin.LinkTTL.Minutes()), "URL", l.URL), nil)
}
