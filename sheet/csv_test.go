package sheet_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/sheet/sheettest"
)

// written is the cell s as a spreadsheet reads it back from WriteCSV (a
// second cell keeps an empty one from making an empty line).
func written(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := sheet.WriteCSV(&buf, [][]string{{s, "x"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 1 || len(recs[0]) != 2 {
		t.Fatalf("read back %q: %q (%v)", buf.String(), recs, err)
	}
	return recs[0][0]
}

func TestWriteCSVNeutralizesFormulas(t *testing.T) {
	t.Parallel()
	for _, h := range sheettest.Hostile {
		if got := written(t, h); got != "'"+h {
			t.Errorf("%q written as %q, want a leading apostrophe", h, got)
		}
	}
	for _, s := range []string{"", "plain", "Союз", "-5", "+7", "12.5", "-0.25", "a=b", " =1+1", "'=quoted"} {
		if got := written(t, s); got != s {
			t.Errorf("%q written as %q, want it unchanged", s, got)
		}
	}
	for _, s := range []string{"-", "-5-", "-1e9", "--5", "-5,0", "=5"} {
		if got := written(t, s); got != "'"+s {
			t.Errorf("%q written as %q, want a leading apostrophe", s, got)
		}
	}
}

func TestWriteExcelCSVStartsWithTheByteOrderMark(t *testing.T) {
	t.Parallel()
	var plain, excel bytes.Buffer
	rows := [][]string{{"org", "name"}, {"edu", "=1+2"}}
	if err := sheet.WriteCSV(&plain, rows); err != nil {
		t.Fatal(err)
	}
	if err := sheet.WriteExcelCSV(&excel, rows); err != nil {
		t.Fatal(err)
	}
	if want := "org,name\nedu,'=1+2\n"; plain.String() != want {
		t.Errorf("WriteCSV wrote %q, want %q", plain.String(), want)
	}
	if got, ok := strings.CutPrefix(excel.String(), "\ufeff"); !ok || got != plain.String() {
		t.Errorf("WriteExcelCSV wrote %q, want the mark and %q", excel.String(), plain.String())
	}
	if recs := sheettest.ReadExcelCSV(t, excel.String()); len(recs) != 2 || recs[1][1] != "'=1+2" {
		t.Errorf("read back %q", recs)
	}
}
