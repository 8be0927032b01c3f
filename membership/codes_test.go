package membership

import (
	"strings"
	"testing"
)

func TestLinkCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		l := newLinkCode()
		if len(l) != 8 || strings.Trim(l, linkAlphabet) != "" {
			t.Fatalf("link code %q uses letters outside the alphabet", l)
		}
		seen[l] = true
	}
	if len(seen) < 990 {
		t.Fatalf("%d distinct codes of 1000", len(seen))
	}
	if got := normalizeLinkCode(" abcd-efgh "); got != "ABCDEFGH" {
		t.Fatalf("normalizeLinkCode = %q", got)
	}
}
