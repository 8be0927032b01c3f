package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// liveness notices when a connection to the server is lost, so that the
// pool checks every connection it hands out that was last used before then.
// After a restart of PostgreSQL all pooled connections are dead; without
// this, each would fail one request before being dropped. pgx alone pings
// only connections idle for over a second.
type liveness struct {
	lostAt atomic.Int64 // unix nanoseconds of the last lost connection
}

// dial wraps the configured dialer so that reads report a lost connection.
func (l *liveness) dial(next pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &watchedConn{Conn: c, l: l}, nil
	}
}

// shouldPing pings connections idle for over a second (pgx's default) and
// those last used before a connection was lost.
func (l *liveness) shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true
	}
	lost := l.lostAt.Load()
	return lost != 0 && time.Now().Add(-p.IdleDuration).UnixNano() <= lost
}

// watchedConn is a server connection whose failed reads mark the loss.
type watchedConn struct {
	net.Conn
	l *liveness
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, net.ErrClosed) {
		c.l.lostAt.Store(time.Now().UnixNano())
	}
	return n, err
}

// openDB opens the pool on dsn with the liveness watch.
func openDB(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if _, set := cfg.RuntimeParams["jit"]; !set {
		// The hub's queries read a page or a count. On tables an import or
		// the bot has just filled, before autovacuum has analysed them, the
		// planner's estimates are off by orders of magnitude, and compiling
		// such a query would cost some 200 ms for a run of one.
		cfg.RuntimeParams["jit"] = "off"
	}
	l := &liveness{}
	cfg.DialFunc = l.dial(cfg.DialFunc)
	return stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(l.shouldPing)), nil
}
