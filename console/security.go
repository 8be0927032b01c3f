package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
)

// contentSecurityPolicy allows nothing but the console's own files: no
// inline script or style, no framing, forms only to itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// headers sets the security headers on every response, and keeps pages
// (which show people's data) out of caches; the assets allow caching.
func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if c.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panicking handler into an internal error page.
func (c *Console) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.logger.ErrorContext(r.Context(), "console handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				c.renderError(w, c.request(r), &pageError{status: http.StatusInternalServerError, key: "console.error_internal"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Rate limits. Every request counts against its address (an office behind
// one address shares it, so it is wide); every request of a session
// against the session; sign-in links against the address and the token,
// narrowly, as they are what one would guess at.
var (
	rateIP          = storage.Rate{PerPeriod: 600, Period: time.Minute, Burst: 200}
	rateSession     = storage.Rate{PerPeriod: 240, Period: time.Minute, Burst: 60}
	rateSignInIP    = storage.Rate{PerPeriod: 10, Period: time.Minute, Burst: 10}
	rateSignInToken = storage.Rate{PerPeriod: 10, Period: 10 * time.Minute, Burst: 10}
	// rateLinkIP holds the short links of news: members open them from
	// their phones, thousands behind one carrier address the minutes
	// after a broadcast, and each open costs a few indexed rows.
	rateLinkIP = storage.Rate{PerPeriod: 12000, Period: time.Minute, Burst: 2000}
)

// limitIP holds every request to its address's rate.
func (c *Console) limitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := c.request(r)
		key, rate := "ip:"+rq.IP, rateIP
		if strings.HasPrefix(r.URL.Path, "/l/") {
			key, rate = "link-ip:"+rq.IP, rateLinkIP
		}
		if c.allow(w, rq, key, rate) {
			next.ServeHTTP(w, r)
		}
	})
}

// allow takes a call under rate on key, or answers 429 with when to come
// back. A limiter that fails lets the request through: the limits guard
// against abuse, they must not take the console down with the state store.
func (c *Console) allow(w http.ResponseWriter, rq *Request, key string, rate storage.Rate) bool {
	ok, retry, err := c.cfg.Limiter.Allow(rq.Context(), "console:"+key, rate)
	if err != nil {
		c.logger.WarnContext(rq.Context(), "console rate limit unavailable, letting the request through", "err", err)
		return true
	}
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	c.renderError(w, rq, &pageError{status: http.StatusTooManyRequests, key: "console.error_rate"})
	return false
}

// clientIP is the address the request came from: the peer's, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not one (the entries further left are the client's own claims).
func (c *Console) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !c.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !c.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (c *Console) trusted(a netip.Addr) bool {
	for _, p := range c.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// csrfField is the name of the form field that carries the CSRF token;
// scripts may send it as the X-CSRF-Token header instead.
const csrfField = "csrf"

// csrfToken is the session's CSRF token: derived from the session's
// secret, so it needs no storage and dies with the session, while the
// secret itself never appears in a page.
func csrfToken(secret string) string {
	if secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("unionhub console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether a change carries its session's token.
func validCSRF(r *http.Request, secret string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	want := csrfToken(secret)
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

// sessionCookie is the session cookie's name: with https, the __Host-
// prefix makes browsers refuse it unless Secure, host-only and for "/".
func (c *Console) sessionCookie() string {
	if c.secure {
		return "__Host-unionhub_session"
	}
	return "unionhub_session"
}

// setSession gives the browser its session: HttpOnly (no script reads it),
// SameSite=Lax (other sites' forms do not carry it), Secure behind https,
// until the session's absolute end.
func (c *Console) setSession(w http.ResponseWriter, s signin.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: c.sessionCookie(), Value: s.Secret, Path: "/", Expires: s.ExpiresAt,
		MaxAge: int(s.ExpiresAt.Sub(c.clock()).Seconds()), HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

// clearSession removes the session cookie.
func (c *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}
