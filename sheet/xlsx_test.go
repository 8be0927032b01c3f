package sheet_test

import (
	"archive/zip"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/sheet/sheettest"
)

func TestXLSXRoundTripsCells(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"name", "note", "empty"},
		{`<b>&amp; "quoted" 'single'`, "Профсоюз «Рыбак» № 5 — ёлка", ""},
		{"line one\nline two\ttab\r\n", "emoji 👩‍🔧 e\u0301 \u200fשלום ﷽", "=SUM(A1:A2)"},
		{"ctl\x00\x01\x08\x0b\x0c\x1f\x7f end", "\ufffe\uffff bad \xff\xfe bytes", "]]> <![CDATA[ x"},
	}
	var buf bytes.Buffer
	if err := sheet.WriteXLSX(&buf, "contacts", rows); err != nil {
		t.Fatal(err)
	}
	got := sheettest.ReadXLSX(t, buf.Bytes())
	want := [][]string{
		rows[0],
		rows[1],
		rows[2],
		// XML 1.0 forbids these control characters and non-characters:
		// they are dropped; DEL is allowed and kept; bad UTF-8 becomes U+FFFD.
		{"ctl\x7f end", " bad \ufffd bytes", "]]> <![CDATA[ x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells\n got %q\nwant %q", got, want)
	}
	raw := sheetPart(t, buf.Bytes())
	if strings.Contains(raw, "<b>") || !strings.Contains(raw, "&lt;b&gt;&amp;amp;") {
		t.Errorf("text is not escaped:\n%s", raw)
	}
	if strings.Contains(raw, "<f>") {
		t.Error("a cell became a formula")
	}
}

func TestXLSXHeaderOnlyAndManyColumns(t *testing.T) {
	t.Parallel()
	header := make([]string, 30)
	for i := range header {
		header[i] = "h" + sheet.ColumnName(i)
	}
	var buf bytes.Buffer
	if err := sheet.WriteXLSX(&buf, "contacts", [][]string{header}); err != nil {
		t.Fatal(err)
	}
	got := sheettest.ReadXLSX(t, buf.Bytes())
	if len(got) != 1 || len(got[0]) != 30 || got[0][29] != "hAD" {
		t.Errorf("cells %q", got)
	}
}

func TestXLSXColumnNames(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := sheet.ColumnName(i); got != want {
			t.Errorf("sheet.ColumnName(%d) = %s, want %s", i, got, want)
		}
	}
}

// sheetPart is the worksheet's XML as written.
func sheetPart(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
