package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
)

// signinPages are signing in with a link and signing out.
func (c *Console) signinPages() pageGroup {
	return pageGroup{Routes: []Route{
		{Pattern: "GET /signin", Public: true, Handle: c.signinHelp},
		{Pattern: "GET " + signin.LinkPath + "{token}", Public: true, Handle: c.signinPreview},
		{Pattern: "POST " + signin.LinkPath + "{token}", Public: true, Handle: c.signinUse},
		{Pattern: "POST /signout", Setup: true, Handle: c.signout},
	}}
}

// endedKeys tell why a session ended.
var endedKeys = map[string]string{
	signin.EndSignedOut: "console.ended_signed_out",
	signin.EndExpired:   "console.ended_expired",
	signin.EndIdle:      "console.ended_idle",
	signin.EndErased:    "console.ended_erased",
	signin.EndRoleLost:  "console.ended_role_lost",
	signin.EndUnknown:   "console.ended_unknown",
}

// signinHelp says how to get a sign-in link, and why the session ended
// when that brought the person here.
func (c *Console) signinHelp(w http.ResponseWriter, rq *Request) error {
	var data struct{ Ended string }
	if key, ok := endedKeys[rq.URL.Query().Get("ended")]; ok {
		data.Ended = rq.T(key)
	}
	return c.render(w, rq, http.StatusOK, "signin/help", data)
}

// linkError tells what is wrong with a sign-in link.
func linkError(err error) error {
	switch {
	case errors.Is(err, signin.ErrLinkUnknown):
		return &pageError{status: http.StatusNotFound, key: "console.link_unknown"}
	case errors.Is(err, storage.ErrLinkUsed):
		return &pageError{status: http.StatusGone, key: "console.link_used"}
	case errors.Is(err, storage.ErrLinkExpired):
		return &pageError{status: http.StatusGone, key: "console.link_expired"}
	case errors.Is(err, access.ErrForbidden):
		return &pageError{status: http.StatusForbidden, key: "console.link_not_staff"}
	}
	return err
}

// limitSignIn holds sign-in links to their narrow rates: per address and
// per token (by its hash: a token never becomes a key in the state store).
func (c *Console) limitSignIn(w http.ResponseWriter, rq *Request) bool {
	sum := sha256.Sum256([]byte(rq.PathValue("token")))
	return c.allow(w, rq, "signin-ip:"+rq.IP, rateSignInIP) &&
		c.allow(w, rq, "signin-token:"+hex.EncodeToString(sum[:16]), rateSignInToken)
}

// signinPreview shows whom a link signs in, with a button to do it. It
// spends nothing: messengers fetch links to preview them (Telegram's and
// VK's bots), and only the person's press may sign them in.
func (c *Console) signinPreview(w http.ResponseWriter, rq *Request) error {
	if !c.limitSignIn(w, rq) {
		return nil
	}
	p, err := c.cfg.SignIn.Preview(rq.Context(), rq.PathValue("token"))
	if err != nil {
		return linkError(err)
	}
	w.Header().Set("X-Robots-Tag", "noindex")
	return c.render(w, rq, http.StatusOK, "signin/link", p)
}

// signinUse spends the link, starts the session and opens the console. A
// session the browser had is ended first.
func (c *Console) signinUse(w http.ResponseWriter, rq *Request) error {
	if !c.limitSignIn(w, rq) {
		return nil
	}
	s, err := c.cfg.SignIn.SignIn(rq.Context(), rq.PathValue("token"), rq.IP)
	if err != nil {
		return linkError(err)
	}
	if old, err := rq.Cookie(c.sessionCookie()); err == nil && old.Value != s.Secret {
		if err := c.cfg.SignIn.SignOut(rq.Context(), old.Value, rq.IP); err != nil {
			c.logger.WarnContext(rq.Context(), "end the browser's previous session", "err", err)
		}
	}
	c.setSession(w, s)
	redirect(w, rq, "/")
	return nil
}

// signout ends the session and says so.
func (c *Console) signout(w http.ResponseWriter, rq *Request) error {
	if err := c.cfg.SignIn.SignOut(rq.Context(), rq.Session.Secret, rq.IP); err != nil {
		return err
	}
	c.clearSession(w)
	redirect(w, rq, "/signin?ended="+signin.EndSignedOut)
	return nil
}
