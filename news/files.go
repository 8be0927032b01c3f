package news

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // a photo may be a GIF,
	_ "image/jpeg" // a JPEG
	_ "image/png"  // or a PNG: what both platforms take as a photo
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Limits of a file uploaded for an item.
const (
	// MaxFileBytes bounds a file: Telegram's limit for a photo, the
	// strictest of the platforms' limits on an upload.
	MaxFileBytes = 10 << 20
	// FileKeep is how long a file uploaded for a draft waits for a
	// broadcast to take it before it is pruned.
	FileKeep = 24 * time.Hour
	// maxFileName bounds a file's name, in runes, keeping its extension.
	maxFileName = 120
	// A photo's sides, as Telegram takes them (VK takes more): together at
	// most 10,000 pixels, the longer at most 20 times the shorter.
	maxPhotoSides = 10000
	maxPhotoRatio = 20
)

// FileKind is how an uploaded file goes to people.
type FileKind string

// The kinds a file may be sent as.
const (
	// FileAuto sends a JPEG, PNG or GIF picture as a photo and any other
	// file as a document.
	FileAuto     FileKind = ""
	FilePhoto    FileKind = storage.FilePhoto
	FileDocument FileKind = storage.FileDocument
)

// Errors of an uploaded file, for the front ends to explain.
var (
	ErrFileEmpty   = errors.New("empty file")
	ErrFileTooBig  = errors.New("file too large")
	ErrFileKind    = errors.New("unknown kind of file")
	ErrNotAPhoto   = errors.New("not a JPEG, PNG or GIF picture")
	ErrPhotoShape  = errors.New("photo out of proportion")
	ErrNotYourFile = errors.New("file uploaded by someone else")
)

// Upload is a file someone uploads for an item: its name as their device
// called it, the kind they chose, and its bytes.
type Upload struct {
	Name string
	Kind FileKind
	Data []byte
}

// StoreFile keeps a file the actor uploads for a draft of theirs: a photo
// (checked by its content, never by its name) or a document of any type,
// up to MaxFileBytes. Only they may send it (Draft.FileID), and a file no
// broadcast takes is pruned after FileKeep.
func (s *Service) StoreFile(ctx context.Context, by access.Actor, u Upload) (storage.NewsFile, error) {
	if by.PersonID == 0 || len(s.SenderOrgs(by)) == 0 {
		return storage.NewsFile{}, fmt.Errorf("store news file: %w", access.ErrForbidden)
	}
	switch {
	case len(u.Data) == 0:
		return storage.NewsFile{}, fmt.Errorf("store news file: %w", ErrFileEmpty)
	case len(u.Data) > MaxFileBytes:
		return storage.NewsFile{}, fmt.Errorf("store news file of %d bytes: %w", len(u.Data), ErrFileTooBig)
	}
	kind, err := fileKind(u)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("store news file: %w", err)
	}
	sum := sha256.Sum256(u.Data)
	f, err := s.store.SaveNewsFile(ctx, storage.NewsFile{PersonID: by.PersonID, Name: fileName(u.Name, kind), Kind: string(kind),
		Size: len(u.Data), SHA256: hex.EncodeToString(sum[:]), Data: u.Data, CreatedAt: s.clock()})
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("store news file: %w", err)
	}
	return f, nil
}

// fileKind is how u goes: as chosen, an automatic choice made by the
// content. A photo must be a picture both platforms take.
func fileKind(u Upload) (FileKind, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(u.Data))
	picture := err == nil && (format == "jpeg" || format == "png" || format == "gif")
	switch u.Kind {
	case FileDocument:
		return FileDocument, nil
	case FileAuto:
		if !picture || !photoShape(cfg) {
			return FileDocument, nil
		}
		return FilePhoto, nil
	case FilePhoto:
		switch {
		case !picture:
			return "", ErrNotAPhoto
		case !photoShape(cfg):
			return "", fmt.Errorf("%w: %d×%d", ErrPhotoShape, cfg.Width, cfg.Height)
		}
		return FilePhoto, nil
	}
	return "", fmt.Errorf("%w: %q", ErrFileKind, u.Kind)
}

func photoShape(c image.Config) bool {
	long, short := max(c.Width, c.Height), min(c.Width, c.Height)
	return short > 0 && c.Width+c.Height <= maxPhotoSides && long <= short*maxPhotoRatio
}

// fileName is the name a file goes under: the last part of what the
// device sent, without control characters, at most maxFileName runes with
// its extension kept; a name by its kind when nothing is left.
func fileName(name string, kind FileKind) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/")) // old browsers send the whole path
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name))
	if name == "" || name == "." || name == "/" {
		if kind == FilePhoto {
			return "photo.jpg"
		}
		return "document"
	}
	if r := []rune(name); len(r) > maxFileName {
		ext := []rune(path.Ext(name))
		if len(ext) >= maxFileName/2 {
			ext = nil
		}
		name = string(r[:maxFileName-len(ext)]) + string(ext)
	}
	return name
}

// File is a file the actor uploaded, without its bytes: nobody else may
// see or send it (ErrNotYourFile).
func (s *Service) File(ctx context.Context, by access.Actor, id int64) (storage.NewsFile, error) {
	f, err := s.store.NewsFile(ctx, id)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("load news file: %w", err)
	}
	if by.PersonID == 0 || f.PersonID != by.PersonID {
		return storage.NewsFile{}, fmt.Errorf("news file %d: %w", id, ErrNotYourFile)
	}
	return f, nil
}

// DraftFile is File with its bytes: for its uploader to see it in the
// composer before sending.
func (s *Service) DraftFile(ctx context.Context, by access.Actor, id int64) (storage.NewsFile, error) {
	f, err := s.File(ctx, by, id)
	if err != nil {
		return storage.NewsFile{}, err
	}
	if f.Data, err = s.store.NewsFileData(ctx, id); err != nil {
		return storage.NewsFile{}, fmt.Errorf("load news file: %w", err)
	}
	return f, nil
}

// BroadcastFile is the file a broadcast carries, with its bytes, for
// someone who may follow the broadcast (as Follow).
func (s *Service) BroadcastFile(ctx context.Context, by access.Actor, broadcastID int64) (storage.NewsFile, error) {
	b, err := s.store.Broadcast(ctx, broadcastID)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("load broadcast: %w", err)
	}
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActPublish, org) {
		return storage.NewsFile{}, fmt.Errorf("file of broadcast %d: %w", broadcastID, access.ErrForbidden)
	}
	if b.FileID == 0 {
		return storage.NewsFile{}, fmt.Errorf("file of broadcast %d: %w", broadcastID, storage.ErrNotFound)
	}
	f, err := s.store.NewsFile(ctx, b.FileID)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("load news file: %w", err)
	}
	if f.Data, err = s.store.NewsFileData(ctx, b.FileID); err != nil {
		return storage.NewsFile{}, fmt.Errorf("load news file: %w", err)
	}
	return f, nil
}

// pruneFiles deletes the files uploaded for drafts that no broadcast took
// within FileKeep.
func (s *Service) pruneFiles(ctx context.Context, now time.Time) error {
	if _, err := s.store.PruneNewsFiles(ctx, now.Add(-FileKeep)); err != nil {
		return fmt.Errorf("prune news files: %w", err)
	}
	return nil
}
