package membership_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

func TestLinkAttachesAnAccountOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna, act := f.join("school", storage.RoleActivist, "Смирнова Анна")
	lc, err := f.svc.NewLinkCode(f.ctx, act)
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Code) != 8 || !lc.ExpiresAt.Equal(f.now.Add(membership.LinkCodeTTL)) || lc.PersonID != anna.ID {
		t.Fatalf("link code %+v", lc)
	}
	vk := membership.Account{Platform: storage.VK, ExternalID: "1101"}
	// Retyped in lower case with a dash.
	got, err := f.svc.Link(f.ctx, vk, " "+strings.ToLower(lc.Code[:4])+"-"+lc.Code[4:])
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != anna.ID {
		t.Fatalf("linked to person %d, want %d", got.ID, anna.ID)
	}
	if p, err := f.db.PersonByAccount(f.ctx, storage.VK, "1101"); err != nil || p.ID != anna.ID {
		t.Fatalf("the VK account belongs to %+v, %v", p, err)
	}
	// A used code does not work twice.
	if _, err := f.svc.Link(f.ctx, f.account(), lc.Code); !errors.Is(err, membership.ErrLinkCodeInvalid) {
		t.Fatalf("a used code: %v", err)
	}
}

func TestLinkRefuses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, anna := f.join("school", storage.RoleMember, "Смирнова Анна")
	other, _ := f.join("school", storage.RoleMember, "Борисов Борис")
	otherAccounts, err := f.db.Accounts(f.ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		lc, err := f.svc.NewLinkCode(f.ctx, anna)
		if err != nil {
			t.Fatal(err)
		}
		return lc.Code
	}
	expired := code()
	f.now = f.now.Add(membership.LinkCodeTTL + time.Second)
	taken := membership.Account{Platform: otherAccounts[0].Platform, ExternalID: otherAccounts[0].ExternalID}
	if _, err := f.svc.Link(f.ctx, f.account(), expired); !errors.Is(err, membership.ErrLinkCodeInvalid) {
		t.Fatalf("an expired code: %v", err)
	}
	if _, err := f.svc.Link(f.ctx, taken, code()); !errors.Is(err, storage.ErrAlreadyRegistered) {
		t.Fatalf("someone else's account: %v", err)
	}
	if p, _ := f.db.PersonByAccount(f.ctx, taken.Platform, taken.ExternalID); p.ID != other.ID {
		t.Fatalf("the account went to person %d", p.ID)
	}
}

func TestWrongLinkCodesAreCountedPerAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, anna := f.join("school", storage.RoleMember, "Смирнова Анна")
	guesser := f.account()
	for i := range 5 {
		if _, err := f.svc.Link(f.ctx, guesser, "AAAA2222"); !errors.Is(err, membership.ErrLinkCodeInvalid) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	lc, err := f.svc.NewLinkCode(f.ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	// After five wrong codes even the right one is refused, for the hour.
	if _, err := f.svc.Link(f.ctx, guesser, lc.Code); !errors.Is(err, membership.ErrTooManyLinkFailures) {
		t.Fatalf("the sixth try: %v", err)
	}
	// Another account is not held back by the guesser's failures.
	if _, err := f.svc.Link(f.ctx, f.account(), lc.Code); err != nil {
		t.Fatalf("another account: %v", err)
	}
	f.now = f.now.Add(time.Hour + time.Second)
	lc, err = f.svc.NewLinkCode(f.ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Link(f.ctx, guesser, lc.Code); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

func TestForgetErasesThePersonAndTheirStateOnEveryPlatform(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna, act := f.join("school", storage.RoleMember, "Смирнова Анна")
	lc, err := f.svc.NewLinkCode(f.ctx, act)
	if err != nil {
		t.Fatal(err)
	}
	vk := membership.Account{Platform: storage.VK, ExternalID: "1101"}
	if _, err := f.svc.Link(f.ctx, vk, lc.Code); err != nil {
		t.Fatal(err)
	}
	accounts, err := f.db.Accounts(f.ctx, anna.ID)
	if err != nil || len(accounts) != 2 {
		t.Fatalf("accounts %+v, %v", accounts, err)
	}
	bystander := f.account()
	var keys []string
	for _, a := range append(accounts, storage.Account{Platform: bystander.Platform, ExternalID: bystander.ExternalID}) {
		conv := membership.ConversationKey(a.Platform, a.ExternalID)
		keys = append(keys, conv)
		if err := f.state.Save(f.ctx, conv, []byte(`{"flow":"ask","question":"Смирнова Анна спрашивает"}`), time.Hour); err != nil {
			t.Fatal(err)
		}
		// A wrong code leaves a count under the account's key.
		if _, err := f.svc.Link(f.ctx, membership.Account{Platform: a.Platform, ExternalID: a.ExternalID}, "AAAA2222"); !errors.Is(err, membership.ErrLinkCodeInvalid) {
			t.Fatal(err)
		}
	}
	if n := len(f.state.Snapshot()); n != 6 {
		t.Fatalf("%d keys before, want a conversation and a count per account: %v", n, f.state.Snapshot())
	}

	if err := f.svc.Forget(f.ctx, act); err != nil {
		t.Fatal(err)
	}
	p, err := f.db.Person(f.ctx, anna.ID)
	if err != nil || p.ErasedAt == nil || p.FullName != "" {
		t.Fatalf("person after Forget: %+v, %v", p, err)
	}
	for _, a := range accounts {
		if _, err := f.db.PersonByAccount(f.ctx, a.Platform, a.ExternalID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("account %s %s survived: %v", a.Platform, a.ExternalID, err)
		}
	}
	left := f.state.Snapshot()
	if len(left) != 2 || left["value:"+keys[2]] == "" {
		t.Fatalf("state after Forget: %v; want only the bystander's conversation and count", left)
	}
}

func TestForgetOfNobodyFails(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if err := f.svc.Forget(f.ctx, access.Actor{PersonID: 987654}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("forgetting nobody: %v", err)
	}
}
