package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

func BenchmarkScratch(b *testing.B) {
	db, raw, u := benchStore(b)
	ctx := b.Context()
	newOutbox(b, db, raw, u)
	now := storagetest.T0.Add(time.Minute)
	var tc, tco time.Duration
	for i := 0; i < 20; i++ {
		s := time.Now()
		ds, err := db.ClaimDeliveries(ctx, "bench", 500, now, now.Add(time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		tc += time.Since(s)
		var results []storage.DeliveryResult
		for _, d := range ds {
			results = append(results, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: fmt.Sprint(d.ID)})
		}
		s = time.Now()
		if err := db.CompleteDeliveries(ctx, results, now); err != nil {
			b.Fatal(err)
		}
		tco += time.Since(s)
	}
	fmt.Println("claim", tc/20, "complete", tco/20)
}
