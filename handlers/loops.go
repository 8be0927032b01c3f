package handlers

import (
	"time"

	"github.com/unionhub/unionhub/periodic"
)

// Bounds of the hub's periodic rounds. A round ends (its calls see their
// context end) before its lock could lapse and pass to another replica; a
// replica killed holding a lock delays the others' rounds by at most the
// lock's time to live. Work cut short is taken up by the next round.
const (
	roundTimeout = 20 * time.Second
	roundLockTTL = 30 * time.Second
)

// Loops lists the hub's periodic work: overdue tickets, broadcast timers,
// action reminders and scheduled jobs every `every`, senders' progress
// messages every progressEvery.
func (h *Hub) Loops(every, progressEvery time.Duration) []periodic.Loop {
	return []periodic.Loop{
		{Name: "escalations", Every: every, Timeout: roundTimeout, Round: h.Escalate},
		{Name: "broadcast_timers", Every: every, Timeout: roundTimeout, Round: h.News.TimersRound},
		{Name: "action_notices", Every: every, Timeout: roundTimeout, Round: h.News.ActionRound},
		{Name: "jobs", Every: every, Timeout: roundTimeout, Round: h.Monitoring.JobsRound},
		{Name: "progress", Every: progressEvery, Timeout: roundTimeout, Round: h.News.ProgressRound},
	}
}
