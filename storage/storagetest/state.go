package storagetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Short real TTLs: long enough to observe before expiry, short enough to wait out.
const (
	shortTTL  = 80 * time.Millisecond
	pastTTL   = 200 * time.Millisecond
	longTTL   = 10 * time.Second
	lockWaits = 5 * time.Second
)

// RunState runs the conformance suite for storage.State; open returns a
// fresh, empty state for each subtest and closes it when the subtest ends.
func RunState(t *testing.T, open func(t *testing.T) storage.State) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s storage.State)
	}{
		{"ClaimLifecycle", testClaimLifecycle},
		{"ClaimExpires", testClaimExpires},
		{"Values", testValues},
		{"ValuesExpire", testValuesExpire},
		{"LockExcludes", testLockExcludes},
		{"LockWaitEndsWithContext", testLockWaitEndsWithContext},
		{"LockExpiresAndUnlocksByToken", testLockExpiresAndUnlocksByToken},
		{"AdmitClaimsLocksAndReads", testAdmitClaimsLocksAndReads},
		{"AdmitWaitsForTheChat", testAdmitWaitsForTheChat},
		{"Ping", func(t *testing.T, ctx context.Context, s storage.State) {
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, t.Context(), open(t))
		})
	}
}

func claim(t *testing.T, ctx context.Context, s storage.State, key string, ttl time.Duration, want storage.ClaimResult) {
	t.Helper()
	got, err := s.Claim(ctx, key, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Claim(%q) = %v, want %v", key, got, want)
	}
}

func testClaimLifecycle(t *testing.T, ctx context.Context, s storage.State) {
	claim(t, ctx, s, "update:1", longTTL, storage.ClaimNew)
	claim(t, ctx, s, "update:1", longTTL, storage.ClaimBusy)
	claim(t, ctx, s, "update:2", longTTL, storage.ClaimNew)
	if err := s.Done(ctx, "update:1", longTTL); err != nil {
		t.Fatal(err)
	}
	claim(t, ctx, s, "update:1", longTTL, storage.ClaimDone)
	claim(t, ctx, s, "update:2", longTTL, storage.ClaimBusy)
	if err := s.Release(ctx, "update:2"); err != nil {
		t.Fatal(err)
	}
	claim(t, ctx, s, "update:2", longTTL, storage.ClaimNew)
	if err := s.Release(ctx, "never-claimed"); err != nil {
		t.Fatalf("Release of an unknown key: %v", err)
	}

	// Of many concurrent claimers exactly one gets the key.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r, err := s.Claim(ctx, "update:race", longTTL); err == nil && r == storage.ClaimNew {
				wins.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent claims won, want 1", wins.Load())
	}
}

func testClaimExpires(t *testing.T, ctx context.Context, s storage.State) {
	claim(t, ctx, s, "busy", shortTTL, storage.ClaimNew)
	claim(t, ctx, s, "done", longTTL, storage.ClaimNew)
	if err := s.Done(ctx, "done", shortTTL); err != nil {
		t.Fatal(err)
	}
	claim(t, ctx, s, "busy", shortTTL, storage.ClaimBusy)
	claim(t, ctx, s, "done", shortTTL, storage.ClaimDone)
	time.Sleep(pastTTL)
	claim(t, ctx, s, "busy", longTTL, storage.ClaimNew)
	claim(t, ctx, s, "done", longTTL, storage.ClaimNew)
}

func testValues(t *testing.T, ctx context.Context, s storage.State) {
	if v, ok, err := s.Load(ctx, "conv:1"); err != nil || ok || v != nil {
		t.Fatalf("Load of a missing key = %q, %v, %v", v, ok, err)
	}
	value := []byte("step=2 \x00\xff Анна 👩‍🔧")
	if err := s.Save(ctx, "conv:1", value, longTTL); err != nil {
		t.Fatal(err)
	}
	value[0] = 'X' // the state keeps its own copy
	got, ok, err := s.Load(ctx, "conv:1")
	if err != nil || !ok || !bytes.Equal(got, []byte("step=2 \x00\xff Анна 👩‍🔧")) {
		t.Fatalf("Load = %q, %v, %v", got, ok, err)
	}
	if err := s.Save(ctx, "conv:1", []byte{}, longTTL); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Load(ctx, "conv:1"); err != nil || !ok || len(got) != 0 {
		t.Fatalf("an empty value: %q, %v, %v", got, ok, err)
	}
	if err := s.Delete(ctx, "conv:1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "conv:1"); err != nil || ok {
		t.Fatalf("Load after Delete: %v, %v", ok, err)
	}
	if err := s.Delete(ctx, "conv:1"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testValuesExpire(t *testing.T, ctx context.Context, s storage.State) {
	if err := s.Save(ctx, "short", []byte("a"), shortTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "long", []byte("b"), longTTL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pastTTL)
	if _, ok, err := s.Load(ctx, "short"); err != nil || ok {
		t.Fatalf("an expired value is still there: %v, %v", ok, err)
	}
	if v, ok, err := s.Load(ctx, "long"); err != nil || !ok || string(v) != "b" {
		t.Fatalf("a live value is gone: %q, %v, %v", v, ok, err)
	}
}

func testLockExcludes(t *testing.T, ctx context.Context, s storage.State) {
	const workers, rounds = 4, 5
	var inside, overlaps, done atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				lctx, cancel := context.WithTimeout(ctx, lockWaits)
				unlock, err := s.Lock(lctx, "job", longTTL)
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				done.Add(1)
				if err := unlock(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if overlaps.Load() != 0 || done.Load() != workers*rounds {
		t.Errorf("%d times two held the lock at once, %d rounds done (want %d)", overlaps.Load(), done.Load(), workers*rounds)
	}
	// Another key is not held by anyone.
	other, err := s.Lock(ctx, "other", longTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := other(ctx); err != nil {
		t.Fatal(err)
	}
}

func testLockWaitEndsWithContext(t *testing.T, ctx context.Context, s storage.State) {
	unlock, err := s.Lock(ctx, "job", longTTL)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Lock(wctx, "job", longTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key: %v, want the context's deadline", err)
	}
	if waited := time.Since(start); waited < 90*time.Millisecond {
		t.Errorf("gave up after %v, before the context ended", waited)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(30 * time.Millisecond)
		released <- unlock(ctx)
	}()
	lctx, cancel2 := context.WithTimeout(ctx, lockWaits)
	defer cancel2()
	again, err := s.Lock(lctx, "job", longTTL)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if err := again(ctx); err != nil {
		t.Fatal(err)
	}
}

func testLockExpiresAndUnlocksByToken(t *testing.T, ctx context.Context, s storage.State) {
	stale, err := s.Lock(ctx, "job", shortTTL)
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, lockWaits)
	defer cancel()
	fresh, err := s.Lock(lctx, "job", longTTL) // waits for the first lock to expire
	if err != nil {
		t.Fatalf("Lock after the holder's ttl: %v", err)
	}
	if err := stale(ctx); err == nil {
		t.Error("unlock of an expired lock reported success")
	}
	// The stale unlock must not have freed the fresh holder's lock.
	wctx, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := s.Lock(wctx, "job", longTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the key was free after a stale unlock: %v", err)
	}
	if err := fresh(ctx); err != nil {
		t.Fatal(err)
	}
	last, err := s.Lock(lctx, "job", longTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := last(ctx); err != nil {
		t.Fatal(err)
	}
}

func admit(t *testing.T, ctx context.Context, s storage.State, update, chat, read string) storage.Admitted {
	t.Helper()
	got, err := s.Admit(ctx, storage.Admission{Claim: update, ClaimTTL: longTTL, Lock: chat, LockTTL: longTTL, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if (got.Leave != nil) != (got.Result == storage.ClaimNew) {
		t.Fatalf("Admit(%q) = %v with leave %v", update, got.Result, got.Leave != nil)
	}
	return got
}

func testAdmitClaimsLocksAndReads(t *testing.T, ctx context.Context, s storage.State) {
	if err := s.Save(ctx, "conv:1", []byte("step"), longTTL); err != nil {
		t.Fatal(err)
	}
	in := admit(t, ctx, s, "u1", "chat:1", "conv:1")
	if in.Result != storage.ClaimNew || !in.Found || string(in.Value) != "step" {
		t.Fatalf("first admission %+v", in)
	}
	// The same update again while it runs, then once it is done.
	if again := admit(t, ctx, s, "u1", "chat:2", ""); again.Result != storage.ClaimBusy {
		t.Fatalf("a redelivery while it runs: %v, want busy", again.Result)
	}
	if err := in.Leave(ctx, true, longTTL); err != nil {
		t.Fatal(err)
	}
	if again := admit(t, ctx, s, "u1", "chat:1", ""); again.Result != storage.ClaimDone {
		t.Fatalf("a redelivery once done: %v, want done", again.Result)
	}
	// A failed update is given back: its retry runs, without a value to read.
	failed := admit(t, ctx, s, "u2", "chat:1", "conv:none")
	if failed.Result != storage.ClaimNew || failed.Found {
		t.Fatalf("admission %+v; want new, nothing read", failed)
	}
	if err := failed.Leave(ctx, false, longTTL); err != nil {
		t.Fatal(err)
	}
	retry := admit(t, ctx, s, "u2", "chat:1", "")
	if retry.Result != storage.ClaimNew {
		t.Fatalf("a retry after a failure: %v, want new", retry.Result)
	}
	if err := retry.Leave(ctx, true, longTTL); err != nil {
		t.Fatal(err)
	}
}

func testAdmitWaitsForTheChat(t *testing.T, ctx context.Context, s storage.State) {
	first := admit(t, ctx, s, "u1", "chat:1", "")
	var secondIn atomic.Bool
	done := make(chan storage.Admitted)
	go func() {
		got, err := s.Admit(ctx, storage.Admission{Claim: "u2", ClaimTTL: longTTL, Lock: "chat:1", LockTTL: longTTL})
		if err != nil {
			t.Error(err)
		}
		secondIn.Store(true)
		done <- got
	}()
	time.Sleep(shortTTL)
	if secondIn.Load() {
		t.Fatal("a second update of the chat got in while the first ran")
	}
	// Another chat is not held up.
	other := admit(t, ctx, s, "u3", "chat:2", "")
	if err := other.Leave(ctx, true, longTTL); err != nil {
		t.Fatal(err)
	}
	if err := first.Leave(ctx, true, longTTL); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-done:
		if second.Result != storage.ClaimNew {
			t.Fatalf("the waiting update: %v", second.Result)
		}
		if err := second.Leave(ctx, true, longTTL); err != nil {
			t.Fatal(err)
		}
	case <-time.After(lockWaits):
		t.Fatal("the waiting update never got in")
	}
}
