package monitoring

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
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
	if err := checkTarget(period, norm, value); err != nil {
		return storage.Target{}, storage.Org{}, err
	}
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return storage.Target{}, org, fmt.Errorf("load org %q: %w", code, err)
	}
	return s.setTarget(ctx, org, period, norm, value)
}

// SetTargetFor is SetTarget by an actor, who may set the targets of the
// org of code (access.ActSetTargets): its chair, a chair above it, the
// Union's staff. access.ErrForbidden for anyone else, before the value is
// looked at.
func (s *Service) SetTargetFor(ctx context.Context, by access.Actor, code, period, norm string, value float64) (storage.Target, storage.Org, error) {
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return storage.Target{}, org, fmt.Errorf("load org %q: %w", code, err)
	}
	if by.PersonID == 0 || !by.Can(access.ActSetTargets, org) {
		return storage.Target{}, org, fmt.Errorf("set the targets of org %d: %w", org.ID, access.ErrForbidden)
	}
	if err := checkTarget(period, norm, value); err != nil {
		return storage.Target{}, org, err
	}
	t, org, err := s.setTarget(ctx, org, period, norm, value)
	if err == nil {
		s.logger.InfoContext(ctx, "target set", "org", org.ID, "period", period, "norm", norm, "person", by.PersonID)
	}
	return t, org, err
}

// checkTarget refuses a period, norm or value outside the programme.
func checkTarget(period, norm string, value float64) error {
	if err := checkPeriod(period); err != nil {
		return err
	}
	_, isNorm := surveys.DefaultTargets[norm]
	if _, observed := ObservedIndicatorNamed(norm); !isNorm && !observed {
		names := slices.Clone(surveys.Norms)
		for _, ind := range ObservedIndicators {
			names = append(names, ind.Name)
		}
		return &InvalidError{Field: "norm", Value: norm, Rule: "use one of " + strings.Join(names, ", ")}
	}
	if !(value >= 0 && value <= maxTarget) { // NaN too
		return &InvalidError{Field: "value", Value: strconv.FormatFloat(value, 'f', -1, 64), Rule: "a number from 0"}
	}
	return nil
}

func (s *Service) setTarget(ctx context.Context, org storage.Org, period, norm string, value float64) (storage.Target, storage.Org, error) {
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

// NormTarget is a norm's target in force for an org in a period.
type NormTarget struct {
	Norm    string
	Default float64
	// Value is the target in force: the org's own, else that of the
	// nearest org above it with one, else Default.
	Value float64
	// From is the org whose target Value is; nil for the default.
	From *storage.Org
	// Observed marks an indicator the hub observes, which has no default:
	// without a target set, None.
	Observed, None bool
}

// TargetSheet is an org's targets in a period, as its page shows them.
type TargetSheet struct {
	Org    storage.Org
	Period string
	Norms  []NormTarget
	// Below is a page of the targets set for orgs below Org in the
	// period, in tree order; More says others follow.
	Below []TargetLine
	More  bool
	// CanSet says whether the actor may set Org's targets.
	CanSet bool
}

// TargetsPerPage is how many of the targets set below an org a page lists.
const TargetsPerPage = 50

// TargetsFor shows the actor the targets in force for the org of code
// and those set below it, in a period: for whoever reads its monitoring
// (access.ErrForbidden sideways or up). page counts from 0.
func (s *Service) TargetsFor(ctx context.Context, by access.Actor, code, period string, page int) (TargetSheet, error) {
	org, err := s.ReportOrg(ctx, by, code)
	if err != nil {
		return TargetSheet{}, err
	}
	if err := checkPeriod(period); err != nil {
		return TargetSheet{}, err
	}
	list, err := s.store.Targets(ctx, period)
	if err != nil {
		return TargetSheet{}, fmt.Errorf("list targets: %w", err)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return TargetSheet{}, err
	}
	sheet := TargetSheet{Org: org, Period: period, CanSet: by.Can(access.ActSetTargets, org)}
	own := map[int64]map[string]float64{}
	var below []TargetLine
	for _, t := range list {
		if own[t.OrgID] == nil {
			own[t.OrgID] = map[string]float64{}
		}
		own[t.OrgID][t.Indicator] = t.Value
		if o, ok := orgs[t.OrgID]; ok && o.ID != org.ID && org.Contains(o) {
			below = append(below, TargetLine{Org: o, Target: t, Default: surveys.DefaultTargets[t.Indicator]})
		}
	}
	for _, norm := range surveys.Norms {
		nt := NormTarget{Norm: norm, Default: surveys.DefaultTargets[norm], Value: surveys.DefaultTargets[norm]}
		for id := org.ID; id != 0; id = orgs[id].ParentID {
			if v, ok := own[id][norm]; ok {
				from := orgs[id]
				nt.Value, nt.From = v, &from
				break
			}
		}
		sheet.Norms = append(sheet.Norms, nt)
	}
	for _, ind := range ObservedIndicators {
		nt := NormTarget{Norm: ind.Name, Observed: true, None: true}
		for id := org.ID; id != 0; id = orgs[id].ParentID {
			if v, ok := own[id][ind.Name]; ok {
				from := orgs[id]
				nt.Value, nt.From, nt.None = v, &from, false
				break
			}
		}
		sheet.Norms = append(sheet.Norms, nt)
	}
	sort.SliceStable(below, func(i, k int) bool {
		a, b := below[i], below[k]
		if a.Org.Path != b.Org.Path {
			return a.Org.Path < b.Org.Path
		}
		return indicatorOrder(a.Target.Indicator) < indicatorOrder(b.Target.Indicator)
	})
	from := min(max(page, 0)*TargetsPerPage, len(below))
	to := min(from+TargetsPerPage, len(below))
	sheet.Below, sheet.More = below[from:to], to < len(below)
	return sheet, nil
}

// indicatorOrder places a norm or an observed indicator as the targets
// page lists them: the norms first.
func indicatorOrder(name string) int {
	if i := slices.Index(surveys.Norms, name); i >= 0 {
		return i
	}
	return len(surveys.Norms) + slices.IndexFunc(ObservedIndicators, func(x ObservedIndicator) bool { return x.Name == name })
}
