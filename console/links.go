package console

import (
	"net/http"

	"github.com/unionhub/unionhub/news"
)

// linkPages serve the short links of news: they lead where the item's
// link led, and count the recipient's open.
func (c *Console) linkPages() pageGroup {
	if c.cfg.Links == nil {
		return pageGroup{}
	}
	return pageGroup{Routes: []Route{{Pattern: "GET /l/{token}", Public: true, Handle: c.shortLink}}}
}

// shortLink redirects to the link's address. A HEAD request, a preview
// robot (the messengers fetch a link to show its preview) or a hub that
// stopped tracking is led there without counting; an unknown or forged
// link is not found.
func (c *Console) shortLink(w http.ResponseWriter, rq *Request) error {
	count := c.cfg.CountOpens && rq.Method == http.MethodGet && !news.IsPreviewFetcher(rq.UserAgent())
	dest, err := c.cfg.Links.Open(rq.Context(), rq.PathValue("token"), count)
	if err != nil {
		return err
	}
	// Each open must reach the hub to count, and the address the member
	// came from is nobody's business.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, rq.Request, dest, http.StatusFound)
	return nil
}
