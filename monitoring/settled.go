package monitoring

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// settled keeps the monitoring history that can no longer change, which
// every report reads again (a page, its charts, the year before for the
// trend): the targets and answers of a run past its deadline (which takes
// no answer or confirmation any more), and the board checks of a month
// whose weeks are all over. It is bounded; what falls out is read
// again. Replicas keep their own, as the history is the same for all.
type settled struct {
	mu     sync.Mutex
	runs   map[int64]runFacts
	months map[monthKey]map[int64]storage.BoardTally
	// order lists what was kept, oldest first, to let go of the oldest.
	runOrder   []int64
	monthOrder []monthKey
}

// How much history a service keeps: a run's answers over a thousand orgs
// take about a megabyte, a month's board checks a few dozen kilobytes.
const (
	settledRuns   = 8
	settledMonths = 48
)

// boardSettles is how long after a month a board check of it may still
// change: a week is answered until seven days after it starts, and a day
// more is margin.
const boardSettles = 8 * 24 * time.Hour

func newSettled() *settled {
	return &settled{runs: map[int64]runFacts{}, months: map[monthKey]map[int64]storage.BoardTally{}}
}

// runFacts is a run's targets and the answers of those that confirmed, by
// org and question.
type runFacts struct {
	targets []storage.SurveyTarget
	answers map[int64]map[string]string
}

// monthKey names a month of a tree's board checks.
type monthKey struct {
	root     int64
	from, to int64 // Unix nanoseconds
}

func (h *settled) run(id int64) (runFacts, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.runs[id]
	return f, ok
}

func (h *settled) keepRun(id int64, f runFacts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.runs[id]; ok {
		return
	}
	if len(h.runOrder) == settledRuns {
		delete(h.runs, h.runOrder[0])
		h.runOrder = h.runOrder[1:]
	}
	h.runs[id] = f
	h.runOrder = append(h.runOrder, id)
}

func (h *settled) month(k monthKey) (map[int64]storage.BoardTally, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.months[k]
	return t, ok
}

func (h *settled) keepMonth(k monthKey, t map[int64]storage.BoardTally) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.months[k]; ok {
		return
	}
	if len(h.monthOrder) == settledMonths {
		delete(h.months, h.monthOrder[0])
		h.monthOrder = h.monthOrder[1:]
	}
	h.months[k] = t
	h.monthOrder = append(h.monthOrder, k)
}

// runFacts reads a run's targets, and its answers to questions when
// wanted by one of the targets (a confirmed org the report counts); those
// of a run past its deadline no longer change (but for the notices
// counted, which reports do not read), and are read once and kept whole.
func (s *Service) runFacts(ctx context.Context, run storage.SurveyRun, questions []string, wanted func(storage.SurveyTarget) bool) (runFacts, error) {
	closed := run.Status == storage.RunClosed || !s.clock().Before(run.Deadline)
	if closed {
		if f, ok := s.history.run(run.ID); ok {
			return f, nil
		}
		wanted = func(t storage.SurveyTarget) bool { return t.SubmittedAt != nil }
	}
	targets, err := s.store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return runFacts{}, fmt.Errorf("list targets of run %d: %w", run.ID, err)
	}
	f := runFacts{targets: targets}
	// The run's answers are read at once: a query per org would cost a
	// thousand.
	if slices.ContainsFunc(targets, wanted) {
		if f.answers, err = runAnswers(ctx, s.store, run.ID, questions); err != nil {
			return runFacts{}, err
		}
	}
	if closed {
		s.history.keepRun(run.ID, f)
	}
	return f, nil
}

// runAnswers reads every org's answers to a run's questions, by org and
// question.
func runAnswers(ctx context.Context, st Store, runID int64, questions []string) (map[int64]map[string]string, error) {
	list, err := st.RunAnswers(ctx, runID, questions)
	if err != nil {
		return nil, fmt.Errorf("load answers of run %d: %w", runID, err)
	}
	out := map[int64]map[string]string{}
	for _, a := range list {
		if out[a.OrgID] == nil {
			out[a.OrgID] = map[string]string{}
		}
		out[a.OrgID][a.QuestionID] = a.Value
	}
	return out, nil
}

// boardTallies counts, per org of under's subtree, the board checks whose
// week starts in p, month by month: a month settled (boardSettles) is read
// once for the whole tree and kept, the months after it are read at once,
// as they are.
func (s *Service) boardTallies(ctx context.Context, under storage.Org, byID map[int64]storage.Org, p Period) (map[int64]storage.BoardTally, error) {
	root := under
	for root.ParentID != 0 {
		up, ok := byID[root.ParentID]
		if !ok {
			break
		}
		root = up
	}
	out := map[int64]storage.BoardTally{}
	add := func(ts map[int64]storage.BoardTally) {
		for id, t := range ts {
			if o, ok := byID[id]; ok && under.Contains(o) {
				sum := out[id]
				sum.OrgID = id
				sum.Weeks, sum.Answered, sum.Updated = sum.Weeks+t.Weeks, sum.Answered+t.Answered, sum.Updated+t.Updated
				out[id] = sum
			}
		}
	}
	read := func(under storage.Org, from, to time.Time) (map[int64]storage.BoardTally, error) {
		list, err := s.store.BoardTallies(ctx, under, from, to)
		if err != nil {
			return nil, fmt.Errorf("count board checks: %w", err)
		}
		byOrg := make(map[int64]storage.BoardTally, len(list))
		for _, t := range list {
			byOrg[t.OrgID] = t
		}
		return byOrg, nil
	}
	now := s.clock()
	for from := p.From; from.Before(p.To); from = from.AddDate(0, 1, 0) {
		to := from.AddDate(0, 1, 0)
		if to.After(p.To) {
			to = p.To
		}
		if now.Before(to.Add(boardSettles)) {
			// This month and those after it may still change.
			live, err := read(under, from, p.To)
			if err != nil {
				return nil, err
			}
			add(live)
			break
		}
		k := monthKey{root: root.ID, from: from.UnixNano(), to: to.UnixNano()}
		month, ok := s.history.month(k)
		if !ok {
			var err error
			if month, err = read(root, from, to); err != nil {
				return nil, err
			}
			s.history.keepMonth(k, month)
		}
		add(month)
	}
	return out, nil
}
