package monitoring

import (
	"slices"
	"strconv"
)

// ObservedIndicator is an indicator the hub observes that an organisation
// can set itself a target for, in the targets' table beside the norms.
type ObservedIndicator struct {
	Name string
	// Key is the text that names it for people, in the catalogs.
	Key string
	// Lower is set where less is better (a time): the target is a most.
	Lower bool
	Value func(Observed) (float64, bool)
}

// ObservedIndicators are the observed indicators a target can be set for,
// named as the report's columns.
var ObservedIndicators = []ObservedIndicator{
	{Name: "coverage_percent", Key: "monitoring.seen_coverage_percent", Value: Observed.Coverage},
	{Name: "supporters_reachable", Key: "monitoring.seen_supporters_reachable", Value: func(o Observed) (float64, bool) {
		return float64(o.Supporters), true
	}},
	{Name: "answered_on_time_percent", Key: "monitoring.seen_answered_on_time_percent", Value: Observed.OnTimeShare},
	{Name: "first_answer_median_hours", Key: "monitoring.seen_first_answer_median_hours", Lower: true, Value: func(o Observed) (float64, bool) {
		median, _, ok := o.FirstAnswer()
		return median.Hours(), ok
	}},
	{Name: "news_per_month", Key: "monitoring.seen_news_per_month", Value: Observed.NewsPerMonth},
	{Name: "relayed_news_published_percent", Key: "monitoring.seen_relayed_news_published_percent", Value: Observed.RelayShare},
	{Name: "reach_percent", Key: "monitoring.seen_reach_percent", Value: Observed.Reach},
	{Name: "link_opens_per_100_delivered", Key: "monitoring.seen_link_opens_per_100_delivered", Value: func(o Observed) (float64, bool) {
		opens, _, ok := o.Engagement()
		return opens, ok
	}},
	{Name: "participants_offline", Key: "monitoring.seen_participants_offline", Value: func(o Observed) (float64, bool) {
		offline, _, _, ok := o.Participation()
		return float64(offline), ok
	}},
	{Name: "participants_online", Key: "monitoring.seen_participants_online", Value: func(o Observed) (float64, bool) {
		_, online, _, ok := o.Participation()
		return float64(online), ok
	}},
	{Name: "maturity_score", Key: "monitoring.seen_maturity_score", Value: func(o Observed) (float64, bool) { return o.MaturityScore, o.MaturityOrgs > 0 }},
}

// ObservedIndicatorNamed finds an observed indicator by name.
func ObservedIndicatorNamed(name string) (ObservedIndicator, bool) {
	i := slices.IndexFunc(ObservedIndicators, func(x ObservedIndicator) bool { return x.Name == name })
	if i < 0 {
		return ObservedIndicator{}, false
	}
	return ObservedIndicators[i], true
}

// ObservedResult is an observed indicator against the org's target: no
// data (Known false) when the indicator has none.
type ObservedResult struct {
	Indicator string  `json:"indicator"`
	Value     float64 `json:"value"`
	Target    float64 `json:"target"`
	Known     bool    `json:"known"`
	Pass      bool    `json:"pass"`
}

// against weighs the observed indicators that have a target in targets.
func (o Observed) against(targets map[string]float64) []ObservedResult {
	var out []ObservedResult
	for _, ind := range ObservedIndicators {
		target, ok := targets[ind.Name]
		if !ok {
			continue
		}
		v, known := ind.Value(o)
		pass := known && (v >= target && !ind.Lower || v <= target && ind.Lower)
		out = append(out, ObservedResult{Indicator: ind.Name, Value: v, Target: target, Known: known, Pass: pass})
	}
	return out
}

// targetCells are an indicator's target and result under the report's
// header: both empty when no target is set.
func (o Observed) targetCells(name string) (target, result string) {
	i := slices.IndexFunc(o.Targets, func(r ObservedResult) bool { return r.Indicator == name })
	if i < 0 {
		return "", ""
	}
	r := o.Targets[i]
	switch {
	case !r.Known:
		result = "no_data"
	case r.Pass:
		result = "pass"
	default:
		result = "fail"
	}
	return strconv.FormatFloat(r.Target, 'f', -1, 64), result
}
