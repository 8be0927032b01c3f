// Package sheet writes the tables staff take away: CSV that no spreadsheet
// runs as a formula, and one-sheet XLSX workbooks, with the standard
// library alone. The command line and the console write every file
// through it.
package sheet

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The fixed parts of a one-sheet Office Open XML workbook: the smallest set
// Excel, LibreOffice and Google Sheets open without a repair prompt.
const (
	xlsxHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

	xlsxContentTypes = xlsxHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`</Types>`

	xlsxRootRels = xlsxHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`

	xlsxWorkbookRels = xlsxHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`</Relationships>`

	// Style 0 is the default, style 1 the bold header.
	xlsxStyles = xlsxHeader + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
		`</styleSheet>`
)

// WriteXLSX writes rows as a workbook with one sheet named sheet (at most 31
// characters, none of []:*?/\); the first row is the header, bold and frozen.
// Every cell is an inline string, so nothing is taken for a number, a date
// or a formula.
func WriteXLSX(w io.Writer, sheet string, rows [][]string) error {
	zw := zip.NewWriter(w)
	var workbook strings.Builder
	workbook.WriteString(xlsxHeader + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"` +
		` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="`)
	writeXMLText(&workbook, sheet)
	workbook.WriteString(`" sheetId="1" r:id="rId1"/></sheets></workbook>`)

	parts := []struct{ name, body string }{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", workbook.String()},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/styles.xml", xlsxStyles},
		{"xl/worksheets/sheet1.xml", xlsxSheet(rows)},
	}
	for _, p := range parts {
		f, err := zw.Create(p.name)
		if err != nil {
			return fmt.Errorf("write xlsx %s: %w", p.name, err)
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return fmt.Errorf("write xlsx %s: %w", p.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// xlsxSheet renders the worksheet part.
func xlsxSheet(rows [][]string) string {
	var b strings.Builder
	b.WriteString(xlsxHeader + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	if len(rows) > 1 {
		b.WriteString(`<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>`)
	}
	if widths := columnWidths(rows); len(widths) > 0 {
		b.WriteString("<cols>")
		for i, w := range widths {
			fmt.Fprintf(&b, `<col min="%d" max="%d" width="%d" customWidth="1"/>`, i+1, i+1, w)
		}
		b.WriteString("</cols>")
	}
	b.WriteString("<sheetData>")
	for i, row := range rows {
		n := strconv.Itoa(i + 1)
		b.WriteString(`<row r="` + n + `">`)
		for j, cell := range row {
			b.WriteString(`<c r="` + ColumnName(j) + n + `" t="inlineStr"`)
			if i == 0 {
				b.WriteString(` s="1"`)
			}
			b.WriteString(`><is><t xml:space="preserve">`)
			writeXMLText(&b, cell)
			b.WriteString("</t></is></c>")
		}
		b.WriteString("</row>")
	}
	b.WriteString("</sheetData></worksheet>")
	return b.String()
}

// columnWidths sizes each column to its longest cell, within reason.
func columnWidths(rows [][]string) []int {
	var widths []int
	for _, row := range rows {
		for j, cell := range row {
			if j == len(widths) {
				widths = append(widths, 8)
			}
			widths[j] = max(widths[j], min(utf8.RuneCountInString(cell)+2, 60))
		}
	}
	return widths
}

// ColumnName turns a 0-based index into a column letter: 0 is A, 26 is AA.
func ColumnName(i int) string {
	var name []byte
	for i++; i > 0; i = (i - 1) / 26 {
		name = append([]byte{byte('A' + (i-1)%26)}, name...)
	}
	return string(name)
}

// writeXMLText writes s escaped for XML text or an attribute, without the
// characters XML 1.0 forbids (most control characters, lone surrogates,
// U+FFFE and U+FFFF), which a member may have pasted into a profile field.
func writeXMLText(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, "\uFFFD"))))
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
