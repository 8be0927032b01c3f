package monitoring

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// maxTarget bounds a target: no norm of the programme counts higher.
const maxTarget = 1e6

// SetTarget sets an organisation's own target for a norm in a period
// ("2026" or "2026-03"), overriding the programme's default for it and for
// the orgs below it without their own. It is the operator's: the command
// line may set any org's. ErrInvalid says what is wrong with the period,
// norm or value; storage.ErrNotFound: no org of that code.
func (s *Service) SetTarget(ctx context.Context, code, period, norm string, value float64) (storage.Target, storage.Org, error) {
	if err := checkPeriod(period); err != nil {
		return storage.Target{}, storage.Org{}, err
	}
	if _, ok := surveys.DefaultTargets[norm]; !ok {
		return storage.Target{}, storage.Org{}, &InvalidError{Field: "norm", Value: norm, Rule: "use one of " + strings.Join(surveys.Norms, ", ")}
	}
	if !(value >= 0 && value <= maxTarget) { // NaN too
		return storage.Target{}, storage.Org{}, &InvalidError{Field: "value", Value: strconv.FormatFloat(value, 'f', -1, 64), Rule: "a number from 0"}
	}
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return storage.Target{}, org, fmt.Errorf("load org %q: %w", code, err)
	}
	t := storage.Target{OrgID: org.ID, Period: period, Indicator: norm, Value: value}
	if err := s.store.SetTarget(ctx, t); err != nil {
		return t, org, fmt.Errorf("set target: %w", err)
	}
	return t, org, nil
}

// checkPeriod refuses a period name that is neither a year nor a month.
func checkPeriod(period string) error {
	if _, err := ParsePeriod(period, time.UTC); err != nil {
		return &InvalidError{Field: "period", Value: period, Rule: periodRule}
	}
	return nil
}

// TargetLine is a target set for an org, beside the programme's default.
type TargetLine struct {
	Org     storage.Org
	Target  storage.Target
	Default float64
}

// Targets lists the targets set for a period.
func (s *Service) Targets(ctx context.Context, period string) ([]TargetLine, error) {
	if err := checkPeriod(period); err != nil {
		return nil, err
	}
	ts, err := s.store.Targets(ctx, period)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	out := make([]TargetLine, 0, len(ts))
	for _, t := range ts {
		o, err := s.store.Org(ctx, t.OrgID)
		if err != nil {
			return nil, fmt.Errorf("load org: %w", err)
		}
		out = append(out, TargetLine{Org: o, Target: t, Default: surveys.DefaultTargets[t.Indicator]})
	}
	return out, nil
}
