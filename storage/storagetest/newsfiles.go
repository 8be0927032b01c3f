package storagetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// newsFile stores a file of n bytes uploaded by personID at.
func (x *suite) newsFile(personID int64, kind string, n int, at time.Time) storage.NewsFile {
	x.t.Helper()
	data := bytes.Repeat([]byte{0xA5}, n)
	sum := sha256.Sum256(data)
	f, err := x.s.SaveNewsFile(x.ctx, storage.NewsFile{PersonID: personID, Name: "повестка дня.pdf", Kind: kind, Size: n,
		SHA256: hex.EncodeToString(sum[:]), Data: data, CreatedAt: at})
	x.must(err)
	return f
}

func testNewsFiles(x *suite) {
	o := x.tree()
	author, _ := x.register("47001", o["B1"].ID, storage.RoleInfoworker, "")
	// Every byte value, and more than a page of them, comes back as it went.
	data := make([]byte, 70000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	sum := sha256.Sum256(data)
	in := storage.NewsFile{PersonID: author.ID, Name: "Фото собрания.jpg", Kind: storage.FilePhoto, Size: len(data),
		SHA256: hex.EncodeToString(sum[:]), Data: data, CreatedAt: T0.In(time.FixedZone("SAKT", 11*3600))}
	saved, err := x.s.SaveNewsFile(x.ctx, in)
	x.must(err)
	want := in
	want.ID, want.Data, want.CreatedAt = saved.ID, nil, T0
	if saved.ID == 0 || !reflect.DeepEqual(saved, want) {
		x.t.Errorf("saved\n%+v\nwant\n%+v", saved, want)
	}
	if got, err := x.s.NewsFile(x.ctx, saved.ID); err != nil || !reflect.DeepEqual(got, want) {
		x.t.Errorf("NewsFile = %+v, %v", got, err)
	}
	if got, err := x.s.NewsFileData(x.ctx, saved.ID); err != nil || !bytes.Equal(got, data) {
		x.t.Errorf("NewsFileData: %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
	_, err = x.s.NewsFile(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.NewsFileData(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)
	for _, bad := range []storage.NewsFile{
		{Kind: "video", Size: 1, SHA256: "x", Data: []byte{1}},
		{Kind: storage.FilePhoto, SHA256: "x"},
		{Kind: storage.FileDocument, Size: 2, SHA256: "x", Data: []byte{1}},
	} {
		if _, err := x.s.SaveNewsFile(x.ctx, bad); err == nil {
			x.t.Errorf("stored %+v", bad)
		}
	}

	// A day on, the files no broadcast took go; the one a broadcast
	// carries stays, however old.
	taken := x.newsFile(author.ID, storage.FileDocument, 10, T0)
	fresh := x.newsFile(author.ID, storage.FileDocument, 10, T0.Add(25*time.Hour))
	b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: author.ID, OrgID: o["B1"].ID, Mode: storage.ModeDirect, FileID: taken.ID, CreatedAt: T0})
	x.must(err)
	if got, err := x.s.Broadcast(x.ctx, b.ID); err != nil || got.FileID != taken.ID {
		x.t.Errorf("broadcast's file %d, %v; want %d", got.FileID, err, taken.ID)
	}
	_, err = x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["B1"].ID, Mode: storage.ModeDirect, FileID: 987654, CreatedAt: T0})
	x.wantErr(err, storage.ErrNotFound)
	n, err := x.s.PruneNewsFiles(x.ctx, T0.Add(24*time.Hour))
	x.must(err)
	if n != 1 {
		x.t.Errorf("pruned %d files, want the one untaken a day old", n)
	}
	_, err = x.s.NewsFile(x.ctx, saved.ID)
	x.wantErr(err, storage.ErrNotFound)
	for _, id := range []int64{taken.ID, fresh.ID} {
		if _, err := x.s.NewsFile(x.ctx, id); err != nil {
			x.t.Errorf("file %d: %v; want it kept", id, err)
		}
	}
}

func testFileRefs(x *suite) {
	o := x.tree()
	f := x.newsFile(0, storage.FilePhoto, 10, T0)
	b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["B1"].ID, Mode: storage.ModeDirect, FileID: f.ID, CreatedAt: T0})
	x.must(err)
	_, err = x.s.FileRef(x.ctx, b.ID, storage.Telegram)
	x.wantErr(err, storage.ErrNotFound)
	// Replicas learn a reference each at once: the first recorded stays
	// for all of them.
	refs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range refs {
		wg.Go(func() {
			ref, err := x.s.SetFileRef(x.ctx, b.ID, storage.Telegram, "AgACAgIAAx-"+string(rune('a'+i)))
			if err != nil {
				x.t.Error(err)
			}
			refs[i] = ref
		})
	}
	wg.Wait()
	kept, err := x.s.FileRef(x.ctx, b.ID, storage.Telegram)
	x.must(err)
	for i, ref := range refs {
		if ref != kept {
			x.t.Errorf("replica %d was told %q, the store keeps %q", i, ref, kept)
		}
	}
	vk, err := x.s.SetFileRef(x.ctx, b.ID, storage.VK, "photo-1_2_key")
	x.must(err)
	if vk != "photo-1_2_key" {
		x.t.Errorf("VK reference %q", vk)
	}
	if again, err := x.s.SetFileRef(x.ctx, b.ID, storage.VK, "photo-1_3_other"); err != nil || again != vk {
		x.t.Errorf("a second VK reference: %q, %v; want the first", again, err)
	}
	_, err = x.s.SetFileRef(x.ctx, 987654, storage.VK, "photo-1_2")
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.SetFileRef(x.ctx, b.ID, "icq", "x"); err == nil {
		x.t.Error("a reference on an unknown platform was recorded")
	}
}

func testForgetNewsFiles(x *suite) {
	o := x.tree()
	p, _ := x.register("47101", o["B1"].ID, storage.RoleInfoworker, "")
	other, _ := x.register("47102", o["B1"].ID, storage.RoleInfoworker, "")
	sent := x.newsFile(p.ID, storage.FilePhoto, 10, T0)
	draft := x.newsFile(p.ID, storage.FilePhoto, 10, T0)
	theirs := x.newsFile(other.ID, storage.FilePhoto, 10, T0)
	_, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: p.ID, OrgID: o["B1"].ID, Mode: storage.ModeDirect, FileID: sent.ID, CreatedAt: T0})
	x.must(err)
	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(time.Hour)))
	if f, err := x.s.NewsFile(x.ctx, sent.ID); err != nil || f.PersonID != 0 {
		x.t.Errorf("the forgotten person's sent file %+v, %v; want it kept, unlinked", f, err)
	}
	_, err = x.s.NewsFile(x.ctx, draft.ID)
	x.wantErr(err, storage.ErrNotFound)
	if f, err := x.s.NewsFile(x.ctx, theirs.ID); err != nil || f.PersonID != other.ID {
		x.t.Errorf("another person's file %+v, %v", f, err)
	}
}
