package main

import (
	"bytes"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/sheet/sheettest"
	"github.com/unionhub/unionhub/surveys"
)

// TestEveryCSVNeutralizesFormulas writes each CSV the hub produces with
// hostile text wherever text from people or files lands, then reads it back
// as a spreadsheet would see it.
func TestEveryCSVNeutralizesFormulas(t *testing.T) {
	t.Parallel()
	for i, h := range sheettest.Hostile {
		tests := []struct {
			name  string
			write func(w io.Writer) error
		}{
			{"report hotline", func(w io.Writer) error {
				return writeReportCSV(w, hotline.Report{Org: h})
			}},
			{"report broadcast", func(w io.Writer) error {
				return writeMetricsCSV(w, broadcastRows(news.Report{ID: 1, Org: h, Mode: h, Status: h}))
			}},
			{"report action", func(w io.Writer) error {
				return sheet.WriteCSV(w, actionRows(news.ActionReport{ByOrg: []news.ActionOrg{{Code: h, Name: h}}}))
			}},
			{"report monitoring", func(w io.Writer) error {
				return writeMonitoringCSV(w, monitoring.Report{Org: "edu", Orgs: []monitoring.OrgReport{
					{Code: h, Name: h, Members: -5, PrevPassed: -1, Results: make([]surveys.Result, len(surveys.Norms))},
				}})
			}},
			{"export contacts", func(w io.Writer) error {
				row := slices.Repeat([]string{h}, len(monitoring.ContactHeader))
				return sheet.WriteExcelCSV(w, [][]string{monitoring.ContactHeader, row})
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name+"/"+string(rune('a'+i)), func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				if err := tt.write(&buf); err != nil {
					t.Fatal(err)
				}
				cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
				cr.FieldsPerRecord = -1
				rows, err := cr.ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				found := 0
				for _, row := range rows {
					for _, cell := range row {
						if cell == "'"+h {
							found++
						}
						if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && cell != "-5" {
							t.Errorf("cell %q would run as a formula", cell)
						}
					}
				}
				if found == 0 {
					t.Errorf("no neutralized %q in:\n%s", h, buf.String())
				}
				if tt.name == "report monitoring" && !slices.Contains(rows[1], "-5") {
					t.Errorf("a plain negative number was changed: %q", rows[1])
				}
			})
		}
	}
}
