package main

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"reflect"
	"strings"
	"testing"
)

// xlsxSheetXML is the parsed worksheet of a workbook writeXLSX wrote.
type xlsxSheetXML struct {
	Rows []struct {
		R     string `xml:"r,attr"`
		Cells []struct {
			R    string `xml:"r,attr"`
			T    string `xml:"t,attr"`
			S    string `xml:"s,attr"`
			Text struct {
				Space string `xml:"http://www.w3.org/XML/1998/namespace space,attr"`
				Value string `xml:",chardata"`
			} `xml:"is>t"`
		} `xml:"c"`
	} `xml:"sheetData>row"`
}

// readXLSX opens a workbook, checks that every part is there and well
// formed, and returns its cells row by row.
func readXLSX(t *testing.T, data []byte) [][]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		parts[f.Name] = b
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
		"xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"} {
		b, ok := parts[name]
		if !ok {
			t.Fatalf("xlsx lacks %s; has %v", name, keys(parts))
		}
		if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)) {
			t.Errorf("%s has no XML declaration", name)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well formed: %v\n%s", name, err, b)
			}
		}
	}
	if len(parts) != 6 {
		t.Errorf("xlsx parts %v, want 6", keys(parts))
	}
	ct := string(parts["[Content_Types].xml"])
	for _, want := range []string{`PartName="/xl/workbook.xml"`, `PartName="/xl/worksheets/sheet1.xml"`, `PartName="/xl/styles.xml"`,
		`Extension="rels"`, "spreadsheetml.sheet.main+xml"} {
		if !strings.Contains(ct, want) {
			t.Errorf("[Content_Types].xml lacks %s", want)
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(parts["xl/workbook.xml"], &wb); err != nil || len(wb.Sheets) != 1 || wb.Sheets[0].ID != "rId1" {
		t.Fatalf("workbook %+v (%v)", wb, err)
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(parts["xl/_rels/workbook.xml.rels"], &rels); err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, r := range rels.Rels {
		targets[r.ID] = r.Target
	}
	if targets["rId1"] != "worksheets/sheet1.xml" || targets["rId2"] != "styles.xml" {
		t.Errorf("workbook relationships %+v", rels)
	}
	var styles struct {
		Fonts []struct {
			Bold *struct{} `xml:"b"`
		} `xml:"fonts>font"`
		Xfs []struct {
			FontID string `xml:"fontId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := xml.Unmarshal(parts["xl/styles.xml"], &styles); err != nil || len(styles.Xfs) != 2 || len(styles.Fonts) != 2 ||
		styles.Xfs[1].FontID != "1" || styles.Fonts[1].Bold == nil {
		t.Errorf("styles %+v (%v): want style 1 bold", styles, err)
	}

	var sheet xlsxSheetXML
	if err := xml.Unmarshal(parts["xl/worksheets/sheet1.xml"], &sheet); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	var out [][]string
	for i, row := range sheet.Rows {
		var cells []string
		for j, c := range row.Cells {
			if want := columnName(j) + row.R; c.R != want || c.T != "inlineStr" || c.Text.Space != "preserve" {
				t.Errorf("cell %s: t=%q space=%q, want %s inline, space preserved", c.R, c.T, c.Text.Space, want)
			}
			if (i == 0) != (c.S == "1") {
				t.Errorf("cell %s has style %q; only the header is bold", c.R, c.S)
			}
			cells = append(cells, c.Text.Value)
		}
		out = append(out, cells)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	return k
}

func TestXLSXRoundTripsCells(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"name", "note", "empty"},
		{`<b>&amp; "quoted" 'single'`, "Профсоюз «Рыбак» № 5 — ёлка", ""},
		{"line one\nline two\ttab\r\n", "emoji 👩‍🔧 e\u0301 \u200fשלום ﷽", "=SUM(A1:A2)"},
		{"ctl\x00\x01\x08\x0b\x0c\x1f\x7f end", "\ufffe\uffff bad \xff\xfe bytes", "]]> <![CDATA[ x"},
	}
	var buf bytes.Buffer
	if err := writeXLSX(&buf, "contacts", rows); err != nil {
		t.Fatal(err)
	}
	got := readXLSX(t, buf.Bytes())
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
	sheet := xlsxSheet(rows)
	if strings.Contains(sheet, "<b>") || !strings.Contains(sheet, "&lt;b&gt;&amp;amp;") {
		t.Errorf("text is not escaped:\n%s", sheet)
	}
	if strings.Contains(sheet, "<f>") {
		t.Error("a cell became a formula")
	}
}

func TestXLSXHeaderOnlyAndManyColumns(t *testing.T) {
	t.Parallel()
	header := make([]string, 30)
	for i := range header {
		header[i] = "h" + columnName(i)
	}
	var buf bytes.Buffer
	if err := writeXLSX(&buf, "contacts", [][]string{header}); err != nil {
		t.Fatal(err)
	}
	got := readXLSX(t, buf.Bytes())
	if len(got) != 1 || len(got[0]) != 30 || got[0][29] != "hAD" {
		t.Errorf("cells %q", got)
	}
}

func TestXLSXColumnNames(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnName(i); got != want {
			t.Errorf("columnName(%d) = %s, want %s", i, got, want)
		}
	}
}
