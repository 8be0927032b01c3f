package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/bot"
)

func TestButtonDataRoundTrips(t *testing.T) {
	t.Parallel()
	b := orgButton{Route: cbNews, Action: "from", OrgID: 9_007_199_254_740_993}
	data := b.data()
	if len(data) > bot.MaxButtonData {
		t.Fatalf("data %q over %d bytes", data, bot.MaxButtonData)
	}
	if got, ok := parseOrgButton(data, cbNews, "from"); !ok || got != b {
		t.Fatalf("parse(%q) = %+v, %v", data, got, ok)
	}
	for _, bad := range []string{"n:from", "n:from:x", "n:from:0", "n:from:-3", "n:to:5", "rsp:from:5", "n:from:5:6"} {
		if got, ok := parseOrgButton(bad, cbNews, "from"); ok {
			t.Errorf("parse(%q) = %+v, want refused", bad, got)
		}
	}
}

func TestMenuButtonsKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	if got := (menuButton{Item: "tools"}).data(); got != "menu:tools" {
		t.Fatalf("data = %q", got)
	}
	if b, ok := parseMenuButton("menu:main"); !ok || b.Item != "main" {
		t.Fatalf("parse = %+v, %v", b, ok)
	}
	for _, bad := range []string{"menu", "menu:", "menu:a:b", "menux:main"} {
		if b, ok := parseMenuButton(bad); ok {
			t.Errorf("parse(%q) = %+v, want refused", bad, b)
		}
	}
}
