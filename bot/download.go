package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DownloadTimeout bounds the download of a file a person sent, however
// slow the platform's file server.
const DownloadTimeout = time.Minute

// Download fetches a file a person sent from the platform's file server at
// link, at most MaxDownloadBytes of it (ErrFileTooBig beyond); a link the
// server no longer knows is ErrFileGone. Errors never carry the link, which
// may hold a token.
func Download(ctx context.Context, client *http.Client, link string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, errors.New("download file: bad link")
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("download file: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("download file: status %d: %w", resp.StatusCode, ErrFileGone)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("download file: status %d", resp.StatusCode)
	case resp.ContentLength > MaxDownloadBytes:
		return nil, fmt.Errorf("download file of %d bytes: %w", resp.ContentLength, ErrFileTooBig)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxDownloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download file: %w", err)
	}
	if len(data) > MaxDownloadBytes {
		return nil, fmt.Errorf("download file over %d bytes: %w", MaxDownloadBytes, ErrFileTooBig)
	}
	return data, nil
}
