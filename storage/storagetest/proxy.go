package storagetest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// PostgresProxy stands between a test and Postgres so that the test can
// take the database away: Cut drops every open connection and refuses new
// ones, as a database that restarts or a network that fails does, until
// Restore.
type PostgresProxy struct {
	t      testing.TB
	target string
	dsn    string

	mu      sync.Mutex
	addr    string
	ln      net.Listener      // nil while cut
	conns   map[net.Conn]bool // open connections, true for the client's side
	dropped int
	wg      sync.WaitGroup
}

// NewPostgresProxy starts a proxy to the server of dsn (a URL as
// PostgresDSN returns); DSN is the same database through the proxy. It
// stops when t ends.
func NewPostgresProxy(t testing.TB, dsn string) *PostgresProxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy: %q is not a postgres URL with a host", dsn)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	u.Host = ln.Addr().String()
	p := &PostgresProxy{t: t, target: target, dsn: u.String(), addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// DSN is the database of the proxied DSN, reached through the proxy.
func (p *PostgresProxy) DSN() string { return p.dsn }

// Cut closes every connection through the proxy and refuses new ones.
func (p *PostgresProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c, client := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
		if client {
			p.dropped++
		}
	}
}

// Restore takes connections again, on the same address.
func (p *PostgresProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Errorf("proxy: listen again on %s: %v", p.addr, err)
		return
	}
	p.ln = ln
	p.serve(ln)
}

// Dropped counts the clients' connections Cut closed.
func (p *PostgresProxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

func (p *PostgresProxy) serve(ln net.Listener) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					p.t.Errorf("proxy: accept: %v", err)
				}
				return
			}
			p.pipe(ln, client)
		}
	}()
}

// pipe joins client to a new connection to the server, unless the proxy
// was cut meanwhile.
func (p *PostgresProxy) pipe(ln net.Listener, client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.t.Errorf("proxy: dial %s: %v", p.target, err)
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln != ln {
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = true, false
	p.mu.Unlock()
	for _, dir := range [][2]net.Conn{{server, client}, {client, server}} {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(dir[0], dir[1])
			p.forget(dir[0])
			p.forget(dir[1])
		}()
	}
}

func (p *PostgresProxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}
