package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/monitoring"
)

func TestEveryObservedIndicatorHasANameForPeople(t *testing.T) {
	t.Parallel()
	for _, ind := range monitoring.ObservedIndicators {
		if observedKeys[ind.Name] == "" {
			t.Errorf("observed indicator %s has no text in observedKeys", ind.Name)
		}
	}
}
