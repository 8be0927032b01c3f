package telegram

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// wholeBodies sends a request whose body's length is unknown in one piece
// when it is small. The SDK streams every call's multipart form through a
// pipe, which net/http sends chunked, one write per part: a sendMessage
// took about ten system calls and as many TCP segments where one does,
// and at thousands of messages a second those writes were most of the
// hub's work. A body larger than wholeBodyMax (an upload) streams as
// before, so a big file is never held twice.
type wholeBodies struct {
	next http.RoundTripper
}

// wholeBodyMax is the largest body read ahead: any text message and its
// keyboard, well under a photo.
const wholeBodyMax = 64 << 10

func (w wholeBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return w.next.RoundTrip(req)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(req.Body, wholeBodyMax+1)); err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("read request body: %w", err)
	}
	out := req.Clone(req.Context())
	if buf.Len() > wholeBodyMax {
		// An upload: what was read, then the rest as it comes.
		out.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(&buf, req.Body), req.Body}
		return w.next.RoundTrip(out)
	}
	req.Body.Close()
	body := buf.Bytes()
	out.ContentLength = int64(len(body))
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return w.next.RoundTrip(out)
}

// sendWhole is client sending small bodies in one piece.
func sendWhole(client *http.Client) *http.Client {
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := *client
	c.Transport = wholeBodies{next: next}
	return &c
}
