package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// WriteCSV writes rows as CSV for spreadsheets: every CSV the hub writes goes
// through it, so no cell runs as a formula when the file is opened.
func WriteCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	safe := make([]string, 0, 16)
	for _, row := range rows {
		safe = safe[:0]
		for _, cell := range row {
			safe = append(safe, neutralizeFormula(cell))
		}
		if err := cw.Write(safe); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// plainNumber is a cell a spreadsheet reads as a number and nothing else.
var plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// neutralizeFormula keeps a spreadsheet from running a cell someone typed as
// a formula ("=HYPERLINK(...)", "-2+3+cmd|..."): a cell starting with = + - @,
// a tab or a carriage return gets a leading apostrophe, unless it is a plain
// number such as -5.
func neutralizeFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !plainNumber.MatchString(s) {
		return "'" + s
	}
	return s
}

// WriteExcelCSV is WriteCSV after a UTF-8 byte-order mark, without which
// Excel takes the file for the ANSI code page and garbles Cyrillic: for
// files people open, not for output other programs read.
func WriteExcelCSV(w io.Writer, rows [][]string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return WriteCSV(w, rows)
}
