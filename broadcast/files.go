package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// A broadcast's file (a photo or document uploaded in the console) goes
// to each platform once: the first delivery there uploads its bytes and
// learns the platform's own reference to it, which the database keeps for
// the other replicas, and every later delivery sends the file by it. One
// sender of this process uploads at a time; the others wait for its
// reference before they take their turn under the limits. A crash between
// the upload and its record costs a second upload, nothing more.

// files is what the engine knows of its broadcasts' files.
type files struct {
	mu    sync.Mutex
	known map[int64]*fileState // by broadcast
	// uploads lets one sender of this process upload a broadcast's file
	// to a platform at a time.
	uploads singleflight.Group
}

// fileState is a broadcast's file as the engine knows it: what it is, and
// each platform's reference once learned.
type fileState struct {
	meta storage.NewsFile // without its bytes
	refs map[bot.Platform]string
}

// state returns what is known of b's file, or nil.
func (f *files) state(id int64) *fileState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known[id]
}

// ref is p's reference to broadcast id's file, with the file's facts.
func (f *files) ref(id int64, p bot.Platform) (storage.NewsFile, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.known[id]
	if st == nil {
		return storage.NewsFile{}, "", false
	}
	ref, ok := st.refs[p]
	return st.meta, ref, ok
}

func (f *files) keep(id int64, meta storage.NewsFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.known == nil {
		f.known = map[int64]*fileState{}
	}
	if f.known[id] == nil {
		f.known[id] = &fileState{meta: meta, refs: map[bot.Platform]string{}}
	}
}

func (f *files) learn(id int64, p bot.Platform, ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.known[id]; st != nil {
		st.refs[p] = ref
	}
}

func (f *files) forget(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.known, id)
}

// attachment is the file as a platform takes it again: by its reference.
func attachment(p bot.Platform, meta storage.NewsFile, ref string) bot.Attachment {
	return bot.Attachment{Platform: p, Kind: meta.Kind, FileID: ref, Name: meta.Name}
}

// fileFor is how a delivery of b on p carries b's file: by the platform's
// reference once learned, here or (by another replica) in the database.
// With none yet, one sender of this process leads: its delivery goes with
// the file uploaded, and fileFor returns that delivery's outcome (done);
// the others wait for it and then go by the reference it learned, or, when
// it learned none (its recipient had blocked the bot), lead in turn.
func (e *Engine) fileFor(ctx context.Context, p bot.Platform, sender bot.Sender, b storage.Broadcast, d storage.Delivery, h *hold) (
	att bot.Attachment, res storage.DeliveryResult, done bool) {
	key := strconv.FormatInt(b.ID, 10) + ":" + string(p)
	for {
		if e.files.state(b.ID) == nil {
			meta, err := e.store.NewsFile(context.WithoutCancel(ctx), b.FileID)
			if err != nil {
				return bot.Attachment{}, e.retry(d, fmt.Errorf("load broadcast file: %w", err), time.Second), true
			}
			e.files.keep(b.ID, meta)
		}
		if meta, ref, ok := e.files.ref(b.ID, p); ok {
			return attachment(p, meta, ref), storage.DeliveryResult{}, false
		}
		led := false
		// Do runs the lead in the first caller and holds the others until it
		// returns, which pacing's respect for ctx keeps short when stopping.
		_, _, _ = e.files.uploads.Do(key, func() (any, error) {
			led = true
			res = e.lead(ctx, p, sender, b, d, h)
			return nil, nil
		})
		if led && res.ID != 0 {
			return bot.Attachment{}, res, true
		}
	}
}

// lead learns p's reference to b's file: from the database when another
// replica recorded one, else by sending d with the file uploaded, which
// then records it; the first recorded stays. It returns d's outcome when
// it sent d (or tried to), and a zero result when it found the reference.
func (e *Engine) lead(ctx context.Context, p bot.Platform, sender bot.Sender, b storage.Broadcast, d storage.Delivery, h *hold) storage.DeliveryResult {
	db := context.WithoutCancel(ctx)
	ref, err := e.store.FileRef(db, b.ID, p)
	switch {
	case err == nil:
		e.files.learn(b.ID, p, ref)
		return storage.DeliveryResult{}
	case !errors.Is(err, storage.ErrNotFound):
		return e.retry(d, fmt.Errorf("load file reference: %w", err), time.Second)
	}
	st := e.files.state(b.ID)
	if st == nil {
		return e.retry(d, errors.New("broadcast file forgotten"), 0)
	}
	data, err := e.store.NewsFileData(db, b.FileID)
	if err != nil {
		return e.retry(d, fmt.Errorf("load broadcast file: %w", err), time.Second)
	}
	res, uploaded := e.deliver(ctx, p, sender, d, h, nil, &bot.Upload{Name: st.meta.Name, Kind: st.meta.Kind, Data: data})
	if uploaded == "" {
		return res
	}
	kept, err := e.store.SetFileRef(db, b.ID, p, uploaded)
	if err != nil {
		// This process goes on with its own; another may upload once more.
		e.logger.WarnContext(ctx, "record file reference", "broadcast", b.ID, "platform", p, "err", err)
		kept = uploaded
	}
	e.files.learn(b.ID, p, kept)
	e.logger.InfoContext(ctx, "broadcast file uploaded", "broadcast", b.ID, "platform", p, "file", b.FileID, "bytes", len(data))
	return res
}
