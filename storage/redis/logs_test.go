package redis_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// outageProxy forwards TCP to Redis until cut, which closes the listener
// and every connection: to the client, Redis has gone away.
type outageProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *outageProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// While Redis is down, the client's own complaints are JSON log lines at
// WARN, not plain text. Not parallel: go-redis has one logger per process.
func TestRedisOutageLogsThroughSlog(t *testing.T) {
	logs := &lockedBuffer{}
	redis.RouteLogs(slog.New(slog.NewJSONHandler(logs, nil)))
	t.Cleanup(func() { redis.RouteLogs(slog.Default()) })

	raw, prefix := storagetest.RedisURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newOutageProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	c, err := redis.Open(t.Context(), u.String(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Save(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}

	proxy.cut()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "failed to dial"); {
		if err := c.Save(t.Context(), "k", []byte("v"), time.Minute); err == nil {
			t.Fatal("a write succeeded with Redis away")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dial failure logged through slog; log:\n%s", logs.String())
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level != "WARN" || rec.Msg != "redis client" || rec.Detail == "" {
			t.Fatalf("not a WARN JSON line from the client (%v): %q", err, line)
		}
	}
}
