// Package storagetest is test support for the storage implementations and
// their users: real Postgres and Redis per test, and conformance suites that
// every implementation of storage.Store and storage.State must pass.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	goredis "github.com/redis/go-redis/v9"
)

// Defaults match the services a developer machine and CI run locally.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// unavailable fails in CI, where the services must be up, and skips elsewhere.
func unavailable(t testing.TB, service, envVar, addr string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s unreachable at %s (set %s): %v", service, addr, envVar, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func randomName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	return "t_" + hex.EncodeToString(b)
}

// PostgresDSN creates a fresh schema for t and returns a DSN whose
// connections use it; the schema is dropped when t ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("UNIONHUB_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("UNIONHUB_TEST_DATABASE_URL must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		unavailable(t, "postgres", "UNIONHUB_TEST_DATABASE_URL", u.Redacted(), err)
	}
	schema := randomName(t)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("open postgres to drop schema: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns the test Redis and a key prefix of t's own, whose keys
// are deleted when t ends.
func RedisURL(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = os.Getenv("UNIONHUB_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = DefaultRedisURL
	}
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("UNIONHUB_TEST_REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		unavailable(t, "redis", "UNIONHUB_TEST_REDIS_URL", opts.Addr, err)
	}
	prefix = randomName(t) + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan test keys: %v", err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("delete test keys: %v", err)
			}
		}
	})
	return redisURL, prefix
}
