package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		numbered bool
		in, want string
	}{
		{false, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{true, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{true, "UPDATE t SET n = 'Анна' WHERE id IN (?, ?, ?)", "UPDATE t SET n = 'Анна' WHERE id IN ($1, $2, $3)"},
		{true, "SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		d := Dialect{Numbered: tt.numbered}
		if got := d.rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
