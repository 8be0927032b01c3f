package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// fakeConn fails reads with err.
type fakeConn struct {
	net.Conn
	err error
}

func (c fakeConn) Read([]byte) (int, error) { return 0, c.err }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestLivenessPingsConnectionsUsedBeforeALoss(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		readErr error // the read error seen, if any, just now
		idle    time.Duration
		want    bool
	}{
		{"busy connection, nothing lost", nil, 10 * time.Millisecond, false},
		{"idle over a second", nil, 2 * time.Second, true},
		{"a connection was lost after this one's last use", io.ErrUnexpectedEOF, 10 * time.Millisecond, true},
		{"a read deadline is no loss", timeoutErr{}, 10 * time.Millisecond, false},
		{"closing our own connection is no loss", net.ErrClosed, 10 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &liveness{}
			if tt.readErr != nil {
				c := &watchedConn{Conn: fakeConn{err: tt.readErr}, l: l}
				if _, err := c.Read(make([]byte, 1)); !errors.Is(err, tt.readErr) {
					t.Fatalf("read error %v, want %v", err, tt.readErr)
				}
			}
			if got := l.shouldPing(context.Background(), stdlib.ShouldPingParams{IdleDuration: tt.idle}); got != tt.want {
				t.Fatalf("shouldPing = %v, want %v", got, tt.want)
			}
		})
	}
	// A connection first used after the loss is trusted again.
	l := &liveness{}
	l.lostAt.Store(time.Now().Add(-time.Minute).UnixNano())
	if l.shouldPing(context.Background(), stdlib.ShouldPingParams{IdleDuration: time.Millisecond}) {
		t.Fatal("a connection used after the loss was pinged")
	}
}

func TestConnectionsRunWithoutJITUnlessTheURLAsks(t *testing.T) {
	t.Parallel()
	dsn := storagetest.PostgresDSN(t)
	tests := []struct {
		name, query, want string
	}{
		{"default", "", "off"},
		{"asked for", "&jit=on", "on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := openDB(dsn + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got string
			if err := db.QueryRowContext(t.Context(), "SHOW jit").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("jit = %q, want %q", got, tt.want)
			}
		})
	}
}
