package monitoring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/unionhub/unionhub/storage"
)

// DefaultContactBaseCron is when each organisation's contact base goes up
// to its parent unless configured otherwise: 15 January, 10:00 in the
// Union's time zone, as the programme asks for it early in the year.
const DefaultContactBaseCron = "0 10 15 1 *"

// contactBaseWindow is how long after its date a yearly send missed while
// the hub was down still runs.
const contactBaseWindow = 31 * 24 * time.Hour

// contactBaseJob is the name of the yearly send in `unionhub jobs`.
const contactBaseJob = "contact base up"

// ValidContactBaseCron checks a configured schedule of the yearly send.
func ValidContactBaseCron(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("contact base schedule %q: %w", spec, err)
	}
	return nil
}

// ContactBaseFile is an organisation's contact base of a year, sent to
// who publishes for its parent.
type ContactBaseFile struct {
	Org, Parent storage.Org
	Year        int
	// Table is the contact base as ContactTable lays it out, its header
	// first; People counts its rows.
	Table  [][]string
	People int
}

// contactBaseJobOf is the yearly send of every org's contact base to its
// parent, in the zone of the tree's root; none without a tree.
func (s *Service) contactBaseJobOf(orgs []storage.Org) (Job, bool) {
	var root *storage.Org
	for i, o := range orgs {
		if o.ParentID == 0 {
			root = &orgs[i]
			break
		}
	}
	if root == nil {
		return Job{}, false
	}
	return Job{
		Name: contactBaseJob, Spec: s.contactBaseCron, Loc: zone(*root), Window: contactBaseWindow,
		run: func(ctx context.Context, firedFor time.Time) error {
			return s.sendContactBasesUp(ctx, orgs, firedFor.In(zone(*root)).Year())
		},
	}, true
}

// sendContactBasesUp sends each org's contact base of year to who
// publishes for its parent (its information workers, else its chairs, else
// the Union's staff), once per org and year across replicas, and records
// it as sent when someone received it. An org without contacts has
// nothing to send; one whose file reached nobody is released, so that a
// run of a later year (or this one, cut short and run again) sends it.
func (s *Service) sendContactBasesUp(ctx context.Context, orgs []storage.Org, year int) error {
	byID := make(map[int64]storage.Org, len(orgs))
	for _, o := range orgs {
		byID[o.ID] = o
	}
	var errs []error
	unreached := 0
	for _, o := range orgs {
		parent, ok := byID[o.ParentID]
		if !ok {
			continue
		}
		reached, err := s.sendContactBaseUp(ctx, o, parent, year)
		if err != nil {
			errs = append(errs, err)
		}
		if !reached && err == nil {
			unreached++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if unreached > 0 {
		s.logger.InfoContext(ctx, "contact bases not sent up: nobody above to receive them, or nothing to send", "orgs", unreached, "year", year)
	}
	return errors.Join(errs...)
}

// sendContactBaseUp sends one org's contact base, if it is its turn; it
// reports whether it was sent now or before.
func (s *Service) sendContactBaseUp(ctx context.Context, o, parent storage.Org, year int) (bool, error) {
	now := s.clock()
	claimed, err := s.store.ClaimContactBaseSend(ctx, o.ID, year, now, now.Add(-staleJobRun))
	if err != nil {
		return false, fmt.Errorf("claim the contact base of org %d: %w", o.ID, err)
	}
	if !claimed {
		return true, nil
	}
	reached, err := s.tellContactBase(ctx, o, parent, year)
	if !reached {
		ctx, cancel := afterRound(ctx)
		defer cancel()
		return false, errors.Join(err, s.store.ReleaseContactBaseSend(ctx, o.ID, year))
	}
	return true, errors.Join(err, s.store.MarkContactBaseSent(ctx, o.ID, year, s.clock()))
}

// tellContactBase sends the file to every publisher of parent and reports
// whether anyone received it.
func (s *Service) tellContactBase(ctx context.Context, o, parent storage.Org, year int) (bool, error) {
	contacts, err := s.Contacts(ctx, o)
	if err != nil || len(contacts) == 0 {
		return false, err
	}
	people, err := s.publishers(ctx, parent.ID)
	if err != nil {
		return false, err
	}
	f := ContactBaseFile{Org: o, Parent: parent, Year: year, Table: ContactTable(contacts), People: len(contacts)}
	reached := false
	var errs []error
	for _, p := range people {
		got, err := s.notify.SendContactBase(ctx, p, f)
		reached = reached || got
		if err != nil {
			errs = append(errs, fmt.Errorf("send the contact base of org %d to person %d: %w", o.ID, p.Person.ID, err))
		}
	}
	return reached, errors.Join(errs...)
}
