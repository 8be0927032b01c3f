package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/chart"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// decimal writes a share with one decimal, with a comma in Russian.
func (s *session) decimal(v float64) string {
	out := strconv.FormatFloat(v, 'f', 1, 64)
	out = strings.TrimSuffix(out, ".0")
	if s.lang == "ru" {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// normKeys name the norms for people.
var normKeys = map[string]string{
	surveys.NormInfoworker:  "norm.infoworker",
	surveys.NormSolidarnost: "norm.solidarnost",
	surveys.NormBudget:      "norm.budget",
	surveys.NormBoard:       "norm.board",
	surveys.NormChannels:    "norm.channels",
}

// cmdMonitoring shows chairs and information workers the current year's
// monitoring of their organisation, with a chart of the worst orgs.
func (h *Hub) cmdMonitoring(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok || err != nil {
		return err
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	orgs := act.Orgs(access.ActMonitoring)
	if len(orgs) == 0 {
		return s.reply(ctx, s.t("error.not_allowed"), s.mainMenu(ctx))
	}
	// "/monitoring [CODE] [2026|2026-03]": any org the person may read, this
	// year of their first one by default.
	org, period := orgs[0], ""
	for _, arg := range strings.Fields(s.u.Args) {
		if _, err := monitoring.ParsePeriod(arg, time.UTC); err == nil {
			period = arg
			continue
		}
		o, err := h.Monitoring.ReportOrg(ctx, act, arg)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, access.ErrForbidden) {
			return s.reply(ctx, s.t("monitoring.usage", "Arg", arg), nil)
		}
		if err != nil {
			return err
		}
		org = o
	}
	r, err := h.Monitoring.ObservedReportFor(ctx, act, org, period)
	if err != nil {
		return err
	}
	var text strings.Builder
	text.WriteString(s.t("monitoring.title", "Org", org.Name, "Period", r.Period))
	text.WriteString("\n" + s.t("monitoring.response", "Answered", r.Answered, "Surveyed", r.Surveyed, "Rate", s.decimal(r.ResponseRate)))
	for _, n := range r.Norms {
		text.WriteString("\n" + s.t("monitoring.norm", "Norm", s.t(normKeys[n.Norm]), "Passed", n.Passed, "Failed", n.Failed, "NoData", n.NoData))
	}
	writeObserved(s, &text, r)
	if len(r.Orgs) == 0 {
		return s.reply(ctx, text.String(), s.mainMenu(ctx))
	}
	text.WriteString("\n" + s.t("monitoring.worst"))
	var bars []chart.Bar
	for i, o := range r.Orgs {
		if i < 5 {
			text.WriteString("\n" + s.t("monitoring.worst_line", "N", i+1, "Org", o.Name, "Percent", s.decimal(o.Percent())))
		}
		if len(bars) < chart.MaxBars {
			bars = append(bars, chart.Bar{Label: o.Name, Percent: o.Percent()})
		}
	}
	png, err := chart.Compliance(bars)
	if err != nil {
		return fmt.Errorf("draw monitoring chart: %w", err)
	}
	if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: text.String()}); err != nil {
		return err
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("monitoring.chart"), Upload: &bot.Upload{Name: "chart.png", Data: png}})
}

// writeObserved adds what the hub observed of the subtree, this period
// against the previous one, each indicator with its unit.
func writeObserved(s *session, text *strings.Builder, r monitoring.Report) {
	if r.Observed == nil {
		return
	}
	text.WriteString("\n\n" + s.t("monitoring.observed_title"))
	format := func(name string, v float64, ok bool) string {
		switch {
		case !ok:
			return s.t("monitoring.no_data")
		case strings.HasSuffix(name, "_percent"):
			return s.decimal(v) + " %"
		case strings.HasSuffix(name, "_hours"):
			return s.t("monitoring.hours", "N", s.decimal(v))
		}
		return s.decimal(v)
	}
	before := monitoring.Observed{}
	if r.PrevObserved != nil {
		before = *r.PrevObserved
	}
	for _, ind := range monitoring.ObservedIndicators {
		now, nowOK := ind.Value(*r.Observed)
		was, wasOK := ind.Value(before)
		text.WriteString("\n" + s.t("monitoring.observed_line", "Name", s.t(ind.Key),
			"Now", format(ind.Name, now, nowOK), "Before", format(ind.Name, was, wasOK)))
	}
}
