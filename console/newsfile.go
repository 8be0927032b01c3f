package console

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// A draft's photo or document. A file input cannot be filled again, so the
// first POST of the composer that carries a file stores it (news.StoreFile)
// and the form names it from then on by a hidden field, file_id, which
// only its uploader may send.

const (
	// newsMaxBody bounds the composer's form: a file of news.MaxFileBytes
	// and the draft, so that a file a little too large is told as such in
	// the composer (the page's script tells of larger ones before they go).
	newsMaxBody = news.MaxFileBytes + 1<<20
	// auditNewsFile records a file uploaded for a draft.
	auditNewsFile = "news_file"
)

// The choices of how a file goes.
var fileKindOptions = []option{
	{Value: string(news.FileAuto), Key: "console.news_file_auto"},
	{Value: string(news.FilePhoto), Key: "console.news_file_photo"},
	{Value: string(news.FileDocument), Key: "console.news_file_document"},
}

// fileLine is a file as a page shows it.
type fileLine struct {
	ID    int64
	Name  string
	Size  string
	Photo bool
}

func newFileLine(rq *Request, f storage.NewsFile) *fileLine {
	return &fileLine{ID: f.ID, Name: f.Name, Size: fileSize(rq, f.Size), Photo: f.Kind == storage.FilePhoto}
}

// fileSize says how large a file is: in bytes, kilobytes or megabytes.
func fileSize(rq *Request, n int) string {
	switch {
	case n < 1<<10:
		return rq.T("console.size_bytes", "N", n)
	case n < 1<<20:
		return rq.T("console.size_kb", "N", (n+1<<10-1)>>10)
	}
	return rq.T("console.size_mb", "N", decimal(rq, float64(n)/(1<<20)))
}

// fileRefusals are the composer's words for a file news refused.
var fileRefusals = []struct {
	err error
	key string
}{
	{news.ErrFileEmpty, "console.news_file_empty"},
	{news.ErrFileTooBig, "console.news_file_too_big"},
	{news.ErrFileKind, "console.news_file_kind"},
	{news.ErrNotAPhoto, "console.news_file_not_photo"},
	{news.ErrPhotoShape, "console.news_file_shape"},
}

// draftFile settles the draft's file: the one file_id names stays, if it
// is still kept and the person's own, unless "remove" (unfile) is ticked;
// one the form uploads now is stored and takes its place. A file refused
// leaves the draft's file as it was and comes back as the message to
// show, with its status.
func (c *Console) draftFile(rq *Request, f *draftForm) (int, string, error) {
	if rq.PostFormValue("unfile") != "" {
		f.draft.FileID = 0
	}
	if f.draft.FileID != 0 {
		_, err := c.cfg.News.File(rq.Context(), rq.Session.Actor, f.draft.FileID)
		switch {
		case errors.Is(err, news.ErrNotYourFile):
			f.draft.FileID = 0
			return http.StatusForbidden, rq.T("console.news_file_not_yours"), nil
		case errors.Is(err, storage.ErrNotFound):
			f.draft.FileID = 0
			return http.StatusUnprocessableEntity, rq.T("console.news_file_gone"), nil
		case err != nil:
			return 0, "", err
		}
	}
	file, header, err := rq.FormFile("file")
	switch {
	case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
		return 0, "", nil
	case err != nil:
		return 0, "", &pageError{status: http.StatusBadRequest, key: "console.news_bad_form"}
	}
	defer file.Close()
	return c.uploadFile(rq, f, file, header.Filename, header.Size)
}

// uploadFile stores the file the form carries as the draft's.
func (c *Console) uploadFile(rq *Request, f *draftForm, file io.Reader, name string, size int64) (int, string, error) {
	tooBig := rq.T("console.news_file_too_big", "Max", fileSize(rq, news.MaxFileBytes))
	if size > news.MaxFileBytes {
		return http.StatusRequestEntityTooLarge, tooBig, nil
	}
	data, err := io.ReadAll(io.LimitReader(file, news.MaxFileBytes+1))
	if err != nil {
		return 0, "", fmt.Errorf("read uploaded file: %w", err)
	}
	stored, err := c.cfg.News.StoreFile(rq.Context(), rq.Session.Actor, news.Upload{Name: name, Kind: news.FileKind(f.fileKind), Data: data})
	for _, r := range fileRefusals {
		if errors.Is(err, r.err) {
			if r.err == news.ErrFileTooBig {
				return http.StatusRequestEntityTooLarge, tooBig, nil
			}
			return http.StatusUnprocessableEntity, rq.T(r.key), nil
		}
	}
	if err != nil {
		return 0, "", err
	}
	if err := rq.Audit(auditNewsFile, f.draft.OrgID, "news_file:"+strconv.FormatInt(stored.ID, 10)); err != nil {
		return 0, "", err
	}
	f.draft.FileID = stored.ID
	return 0, "", nil
}

// newsFile serves a broadcast's file to those who may open the broadcast:
// a photo shown in the page, a document downloaded.
func (c *Console) newsFile(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	f, err := c.cfg.News.BroadcastFile(rq.Context(), rq.Session.Actor, id)
	if err != nil {
		return err
	}
	return serveFile(w, f.Name, f.Kind == storage.FilePhoto, f.Data)
}

// newsUpload serves a file uploaded for a draft to its uploader alone,
// for the composer's preview.
func (c *Console) newsUpload(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	f, err := c.cfg.News.DraftFile(rq.Context(), rq.Session.Actor, id)
	if errors.Is(err, news.ErrNotYourFile) {
		return fmt.Errorf("%w: %w", access.ErrForbidden, err)
	}
	if err != nil {
		return err
	}
	return serveFile(w, f.Name, f.Kind == storage.FilePhoto, f.Data)
}

// shownImages are the types of photo a browser is given to show, with the
// extension a name without one gets; a file of any other content is
// downloaded, whatever its kind.
var shownImages = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}

// serveFile writes a file: a photo to be shown, anything else to be
// downloaded, never run.
func serveFile(w http.ResponseWriter, name string, photo bool, data []byte) error {
	h := w.Header()
	disposition, contentType := "attachment", "application/octet-stream"
	detected := http.DetectContentType(data)
	if ext, ok := shownImages[detected]; photo && ok {
		disposition, contentType = "inline", detected
		if filepath.Ext(name) == "" {
			name += ext
		}
	}
	if named := mime.FormatMediaType(disposition, map[string]string{"filename": name}); named != "" {
		disposition = named
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	// The page's own rules apply to the file: nothing in it runs.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(data)
	return err
}

// safeFileName is name as a download's file name: no folders, no control
// characters, at most 100 characters; fallback when nothing is left.
func safeFileName(name, fallback string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\"`, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" {
		return fallback
	}
	return name
}
