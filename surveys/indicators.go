package surveys

import (
	"math"
	"strconv"

	"github.com/unionhub/unionhub/storage"
)

// Indicators the answers feed; Question.Indicator is one of these.
const (
	IndInfoworker        = "infoworker"         // yes_no: an information worker (or activist) is named
	IndInfoworkerTrained = "infoworker_trained" // yes_no
	// IndBoard tells a missing notice board (a failed board norm) from an
	// unanswered weekly question, which its skip rule leaves out.
	IndBoard       = "board"              // yes_no: a notice board exists
	IndBoardWeekly = "board_weekly"       // yes_no: counts when no weekly reminder was answered
	IndSolidarnost = "solidarnost_copies" // number: copies of «Солидарность» (print+electronic)
	IndMembers     = "members"            // number, optional: members now (overrides the declared count)
	IndBudgetShare = "budget_share"       // number: percent of the budget spent on information work
	IndEmailList   = "email_list"         // yes_no
	IndChats       = "chats"              // yes_no
	IndSocialPage  = "social_page"        // yes_no
	IndWebsite     = "website"            // yes_no
	IndMeetings    = "info_meetings"      // yes_no
	IndPlan        = "quarterly_plan"     // yes_no
)

// indicatorTypes is the question type each indicator needs.
var indicatorTypes = map[string]Type{
	IndInfoworker:        YesNo,
	IndInfoworkerTrained: YesNo,
	IndBoard:             YesNo,
	IndBoardWeekly:       YesNo,
	IndSolidarnost:       Number,
	IndMembers:           Number,
	IndBudgetShare:       Number,
	IndEmailList:         YesNo,
	IndChats:             YesNo,
	IndSocialPage:        YesNo,
	IndWebsite:           YesNo,
	IndMeetings:          YesNo,
	IndPlan:              YesNo,
}

// Indicators lists every indicator.
var Indicators = []string{
	IndInfoworker, IndInfoworkerTrained, IndBoard, IndBoardWeekly, IndSolidarnost, IndMembers,
	IndBudgetShare, IndEmailList, IndChats, IndSocialPage, IndWebsite, IndMeetings, IndPlan,
}

// Norms evaluated in reports, each with a default target the organisation may override.
const (
	NormInfoworker  = "infoworker"
	NormSolidarnost = "solidarnost_per_100"
	NormBudget      = "budget_share"
	NormBoard       = "board_weekly"
	NormChannels    = "channels"
)

// Norms lists the norms in report order.
var Norms = []string{NormInfoworker, NormSolidarnost, NormBudget, NormBoard, NormChannels}

// DefaultTargets are the programme's own minimums.
var DefaultTargets = map[string]float64{
	NormInfoworker:  1,   // named
	NormSolidarnost: 1,   // copies per 100 members
	NormBudget:      5,   // percent of the budget
	NormBoard:       100, // percent of weeks updated
	NormChannels:    100, // percent of mandatory channels present
}

// Member counts above which a branch must keep a social page and a website.
const (
	SocialPageAbove = 1000
	WebsiteAbove    = 5000
)

// Facts are what Evaluate judges an organisation by.
type Facts struct {
	Level   storage.Level
	Members int               // declared member count
	Answers map[string]string // indicator -> stored value (Survey.IndicatorAnswers)
	// BoardWeeks counts the weekly board reminders observed in the period
	// (those that reached someone), BoardAnswered those answered at all,
	// BoardUpdated those answered "updated" within their week.
	BoardWeeks, BoardAnswered, BoardUpdated int
}

// Result is one norm's verdict.
type Result struct {
	Norm   string  `json:"norm"`
	Value  float64 `json:"value"` // e.g. copies per 100 members, percent
	Target float64 `json:"target"`
	// Known is false when the data to judge is missing: report "no data",
	// neither pass nor fail.
	Known bool `json:"known"`
	Pass  bool `json:"pass"`
	// Missing lists, for channels, the mandatory channels absent (indicator names).
	Missing []string `json:"missing,omitempty"`
}

// Float rounding of the ratios must not fail an organisation exactly at its target.
const epsilon = 1e-9

// Evaluate judges every norm, in Norms order. targets overrides
// DefaultTargets per norm and may be nil.
func Evaluate(f Facts, targets map[string]float64) []Result {
	members := float64(f.Members)
	if m, ok := answerNumber(f.Answers, IndMembers); ok {
		members = m
	}
	out := make([]Result, 0, len(Norms))
	for _, norm := range Norms {
		r := Result{Norm: norm, Target: DefaultTargets[norm]}
		if t, ok := targets[norm]; ok {
			r.Target = t
		}
		switch norm {
		case NormInfoworker:
			r.Value, r.Known = answerYesNo(f.Answers, IndInfoworker, 1)
		case NormSolidarnost:
			if copies, ok := answerNumber(f.Answers, IndSolidarnost); ok && members > 0 {
				r.Value, r.Known = copies*100/members, true
			}
		case NormBudget:
			r.Value, r.Known = answerNumber(f.Answers, IndBudgetShare)
		case NormBoard:
			r.Value, r.Known = board(f)
		case NormChannels:
			r.Value, r.Known, r.Missing = channels(f.Level, members, f.Answers)
		}
		r.Pass = r.Known && r.Value >= r.Target-epsilon
		out = append(out, r)
	}
	return out
}

// board prefers the weekly reminders to the self-report once one of the
// period was answered; then every week observed counts, an unanswered one
// as not updated. Without an answered reminder the survey's answer counts,
// and without that, reminders that reached someone and went unanswered
// fail the norm.
func board(f Facts) (float64, bool) {
	if f.BoardWeeks > 0 && f.BoardAnswered > 0 {
		updated := min(max(f.BoardUpdated, 0), f.BoardWeeks)
		return 100 * float64(updated) / float64(f.BoardWeeks), true
	}
	if v, ok := answerYesNo(f.Answers, IndBoardWeekly, 100); ok {
		return v, true
	}
	if f.Answers[IndBoard] == No || f.BoardWeeks > 0 {
		return 0, true
	}
	return 0, false
}

// MandatoryChannels are the channels the programme requires of an
// organisation of the level and size: e-mail lists and chats everywhere, a
// social page above 1,000 members and a website above 5,000 for a branch or
// the Union. An unknown level is judged as a primary, the commonest.
func MandatoryChannels(level storage.Level, members float64) []string {
	req := []string{IndEmailList, IndChats}
	if level != storage.LevelBranch && level != storage.LevelUnion {
		return req
	}
	if members > SocialPageAbove {
		req = append(req, IndSocialPage)
	}
	if members > WebsiteAbove {
		req = append(req, IndWebsite)
	}
	return req
}

func channels(level storage.Level, members float64, answers map[string]string) (value float64, known bool, missing []string) {
	req := MandatoryChannels(level, members)
	present := 0
	for _, ind := range req {
		switch answers[ind] {
		case Yes:
			present++
			known = true
		case No:
			known = true
			missing = append(missing, ind)
		default:
			missing = append(missing, ind)
		}
	}
	if !known {
		return 0, false, missing
	}
	return 100 * float64(present) / float64(len(req)), true, missing
}

func answerNumber(answers map[string]string, ind string) (float64, bool) {
	v, ok := answers[ind]
	if !ok || v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// answerYesNo gives yes as full, no as 0.
func answerYesNo(answers map[string]string, ind string, full float64) (float64, bool) {
	switch answers[ind] {
	case Yes:
		return full, true
	case No:
		return 0, true
	}
	return 0, false
}
