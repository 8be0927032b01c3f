package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/unionhub/unionhub/examples"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// maxOrgFile bounds an organisation file: a tree of thousands of
// organisations is some hundred kilobytes.
const maxOrgFile = 2 << 20

// orgImportPages upload an organisation file, show the plan and apply it.
// Setup sessions use them to load the first tree; afterwards the use case
// lets the Union's staff only.
func (c *Console) orgImportPages() pageGroup {
	return pageGroup{Routes: []Route{
		{Pattern: "GET /orgs/import", Setup: true, Handle: c.orgImportForm},
		{Pattern: "POST /orgs/import/preview", Setup: true, MaxBody: maxOrgFile + 64<<10, Handle: c.orgImportPreview},
		{Pattern: "POST /orgs/import/example", Setup: true, Handle: c.orgImportExample},
		// The previewed file comes back whole, base64 in a form field.
		{Pattern: "POST /orgs/import/apply", Setup: true, MaxBody: 2*maxOrgFile + 64<<10, Handle: c.orgImportApply},
	}}
}

// orgImportData is the upload form, with the problems of a refused file.
type orgImportData struct {
	File     string
	Problems []string
	More     int // problems not shown
}

// maxShownProblems is how many problems of a refused file are listed; a
// wholly wrong file would otherwise fill pages.
const maxShownProblems = 50

func (c *Console) orgImportForm(w http.ResponseWriter, rq *Request) error {
	if err := c.cfg.Orgs.MayImport(rq.Context(), rq.Session.Actor); err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "orgs/import", orgImportData{})
}

func (c *Console) orgImportPreview(w http.ResponseWriter, rq *Request) error {
	f, h, err := rq.FormFile("file")
	if err != nil {
		return c.refuseFile(w, rq, "", []string{rq.T("console.import_no_file")})
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxOrgFile+1))
	if err != nil {
		return fmt.Errorf("read org file: %w", err)
	}
	name := filepath.Base(h.Filename)
	if len(content) > maxOrgFile {
		return c.refuseFile(w, rq, name, []string{rq.T("console.import_too_big")})
	}
	return c.preview(w, rq, name, content)
}

func (c *Console) orgImportExample(w http.ResponseWriter, rq *Request) error {
	return c.preview(w, rq, examples.OrgsName, examples.Orgs)
}

// orgPreviewData is the plan of a file, and the form that applies it.
type orgPreviewData struct {
	File                   string
	Content                string // the file, base64
	Digest                 string
	Created, Updated, Same int
	Steps                  []planLine
	Changed                bool // the tree changed since an earlier preview
}

// planLine is one step of a plan as shown.
type planLine struct {
	Create                                           bool
	Source, Code, Name, Parent, Level, Members, Zone string
}

// preview parses a file and shows its plan, or its problems by line.
func (c *Console) preview(w http.ResponseWriter, rq *Request, name string, content []byte) error {
	return c.showPlan(w, rq, http.StatusOK, name, content, false)
}

func (c *Console) showPlan(w http.ResponseWriter, rq *Request, status int, name string, content []byte, changed bool) error {
	in, err := orgs.ParseFile(name, bytes.NewReader(content))
	if err != nil {
		return c.refuseFile(w, rq, name, errorLines(err))
	}
	plan, digest, err := c.cfg.Orgs.Preview(rq.Context(), rq.Session.Actor, in)
	var ie *storage.ImportError
	if errors.As(err, &ie) {
		return c.refuseFile(w, rq, name, problemLines(ie))
	}
	if err != nil {
		return err
	}
	res := plan.Result()
	d := orgPreviewData{File: name, Content: base64.StdEncoding.EncodeToString(content), Digest: digest,
		Created: res.Created, Updated: res.Updated, Same: res.Unchanged, Changed: changed}
	for _, st := range plan.Steps {
		d.Steps = append(d.Steps, planLine{Create: st.ID == 0, Source: st.Input.Source, Code: st.Input.Code, Name: st.Input.Name,
			Parent: st.Input.ParentCode, Level: rq.T(levelKeys[st.Input.Level]),
			Members: fmt.Sprint(st.Input.MemberCount), Zone: st.Input.TimeZone})
	}
	return c.render(w, rq, status, "orgs/preview", d)
}

// refuseFile shows the upload form again with a file's problems: nothing
// was written.
func (c *Console) refuseFile(w http.ResponseWriter, rq *Request, name string, problems []string) error {
	d := orgImportData{File: name, Problems: problems}
	if len(problems) > maxShownProblems {
		d.Problems, d.More = problems[:maxShownProblems], len(problems)-maxShownProblems
	}
	return c.render(w, rq, http.StatusUnprocessableEntity, "orgs/import", d)
}

// errorLines splits the parser's joined errors, one a line.
func errorLines(err error) []string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}

func (c *Console) orgImportApply(w http.ResponseWriter, rq *Request) error {
	name := filepath.Base(rq.PostFormValue("file"))
	content, err := base64.StdEncoding.DecodeString(rq.PostFormValue("content"))
	if err != nil || len(content) > maxOrgFile {
		return c.refuseFile(w, rq, name, []string{rq.T("console.import_no_file")})
	}
	in, err := orgs.ParseFile(name, bytes.NewReader(content))
	if err != nil {
		return c.refuseFile(w, rq, name, errorLines(err))
	}
	res, err := c.cfg.Orgs.Apply(rq.Context(), rq.Session.Actor, in, rq.PostFormValue("digest"))
	var ie *storage.ImportError
	switch {
	case errors.Is(err, orgs.ErrPlanChanged):
		// Show the plan as it is now; the person applies that one or not.
		return c.showPlan(w, rq, http.StatusConflict, name, content, true)
	case errors.As(err, &ie):
		return c.refuseFile(w, rq, name, problemLines(ie))
	case err != nil:
		return err
	}
	record := fmt.Sprintf("file:%s created %d updated %d", name, res.Created, res.Updated)
	if err := rq.Audit(auditOrgImport, 0, record); err != nil {
		return err
	}
	redirect(w, rq, "/orgs?done=imported")
	return nil
}
