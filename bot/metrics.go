package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts updates and sends for the admin /metrics endpoint.
type Metrics struct {
	updates  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	sends    *prometheus.CounterVec
	refused  *prometheus.CounterVec
}

// NewMetrics registers the core's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionhub_updates_total", Help: "Updates handled, by platform, kind and outcome.",
		}, []string{"platform", "kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "unionhub_update_duration_seconds", Help: "Time to handle an update.",
			Buckets: prometheus.DefBuckets,
		}, []string{"platform"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionhub_sends_total", Help: "Messages sent, by platform and outcome.",
		}, []string{"platform", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionhub_webhook_refused_total", Help: "Webhook requests refused before they were authenticated, by platform and reason.",
		}, []string{"platform", "reason"}),
	}
	reg.MustRegister(m.updates, m.duration, m.sends, m.refused)
	return m
}

func (m *Metrics) observe(p Platform, kind, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.updates.WithLabelValues(string(p), kind, outcome).Inc()
	m.duration.WithLabelValues(string(p)).Observe(d.Seconds())
}

// CountSend records the outcome of one outgoing call.
func (m *Metrics) CountSend(p Platform, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.sends.WithLabelValues(string(p), outcome).Inc()
}

// CountRefused records a webhook request refused before it was
// authenticated; reason is one of the Refused* constants.
func (m *Metrics) CountRefused(p Platform, reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues(string(p), reason).Inc()
}
