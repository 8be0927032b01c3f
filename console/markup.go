package console

import (
	"html"
	"html/template"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// News is written in the console with the tags of Telegram's HTML parse
// mode, the formatting the bot keeps from a Telegram message: the tags
// become spans over the plain text (storage.Span, in UTF-16 units), which
// is how news is stored and sent. A "<" that starts no known tag is text.

// markupTags maps each tag to its kind of formatting.
var markupTags = map[string]storage.SpanKind{
	"b": storage.SpanBold, "strong": storage.SpanBold,
	"i": storage.SpanItalic, "em": storage.SpanItalic,
	"u": storage.SpanUnderline, "ins": storage.SpanUnderline,
	"s": storage.SpanStrike, "strike": storage.SpanStrike, "del": storage.SpanStrike,
	"tg-spoiler": storage.SpanSpoiler,
	"code":       storage.SpanCode,
	"pre":        storage.SpanPre,
	"blockquote": storage.SpanQuote,
	"a":          storage.SpanLink,
}

// markupTag matches an opening or closing tag; only <a> takes an
// attribute, its href.
var markupTag = regexp.MustCompile(`^<(/?)([a-zA-Z][a-zA-Z-]*)(?:\s+href\s*=\s*"([^"]*)")?\s*>`)

// markupError is a refusal of what was typed: a text key with its
// parameters.
type markupError struct {
	key string
	kv  []any
	n   int // for a plural key, its count
}

func (e *markupError) Error() string { return "refuse news text: " + e.key }

// empty reports a text with nothing in it: an item with a file may go so.
func (e *markupError) empty() bool { return e.key == "input.empty" }

// message is the refusal in the request's language.
func (e *markupError) message(rq *Request) string {
	if e.n > 0 {
		return rq.Plural(e.key, e.n, e.kv...)
	}
	return rq.T(e.key, e.kv...)
}

// parseMarkup reads an item's text as typed: line ends made "\n", the
// tags taken out as spans, entities (&lt; &amp;...) read, the white space
// around it trimmed. It refuses unbalanced tags, links that are not
// http(s) or tg, and text the bot would refuse: empty, longer than limit
// UTF-16 units, broken, or with control characters.
func parseMarkup(src string, limit int) (string, []storage.Span, *markupError) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	var (
		out   strings.Builder
		n     int // UTF-16 units written
		spans []storage.Span
		open  []struct {
			tag  string
			span int // index in spans
		}
	)
	write := func(s string) {
		s = html.UnescapeString(s)
		out.WriteString(s)
		n += storage.UTF16Len(s)
	}
	for len(src) > 0 {
		i := strings.IndexByte(src, '<')
		if i < 0 {
			write(src)
			break
		}
		write(src[:i])
		src = src[i:]
		m := markupTag.FindStringSubmatch(src)
		var kind storage.SpanKind
		if m != nil {
			kind = markupTags[strings.ToLower(m[2])]
		}
		if kind == "" {
			write("<")
			src = src[1:]
			continue
		}
		src = src[len(m[0]):]
		tag := strings.ToLower(m[2])
		if m[1] == "/" {
			if len(open) == 0 || open[len(open)-1].tag != tag {
				return "", nil, &markupError{key: "console.news_markup_unbalanced", kv: []any{"Tag", "</" + tag + ">"}}
			}
			sp := &spans[open[len(open)-1].span]
			sp.Length = n - sp.Offset
			open = open[:len(open)-1]
			continue
		}
		href := html.UnescapeString(m[3])
		if (kind == storage.SpanLink) != (m[3] != "") {
			return "", nil, &markupError{key: "console.news_markup_link", kv: []any{"Tag", m[0]}}
		}
		spans = append(spans, storage.Span{Kind: kind, Offset: n, URL: href})
		open = append(open, struct {
			tag  string
			span int
		}{tag, len(spans) - 1})
	}
	if len(open) > 0 {
		return "", nil, &markupError{key: "console.news_markup_unclosed", kv: []any{"Tag", "<" + open[len(open)-1].tag + ">"}}
	}
	raw := out.String()
	text, bad := cleanPlain(raw, limit)
	if bad != nil {
		return "", nil, bad
	}
	shift := storage.UTF16Len(raw[:len(raw)-len(strings.TrimLeftFunc(raw, unicode.IsSpace))])
	end := storage.UTF16Len(text)
	var kept []storage.Span
	for _, sp := range spans {
		from, to := max(sp.Offset-shift, 0), min(sp.Offset+sp.Length-shift, end)
		sp.Offset, sp.Length = from, to-from
		if sp.Length <= 0 {
			continue // an empty tag formats nothing
		}
		if !sp.Valid(end) {
			return "", nil, &markupError{key: "console.news_markup_link", kv: []any{"Tag", sp.URL}}
		}
		kept = append(kept, sp)
	}
	return text, kept, nil
}

// cleanPlain trims a text and refuses it as the bot refuses a typed
// text: empty, longer than limit UTF-16 units, broken, or with control
// characters (line breaks and tabs aside).
func cleanPlain(s string, limit int) (string, *markupError) {
	text := strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if text == "" {
		return "", &markupError{key: "input.empty"}
	}
	if _, bad := membership.CleanText(strings.NewReplacer("\n", " ", "\t", " ").Replace(text), len(text)); bad != nil {
		return "", &markupError{key: bad.Key}
	}
	if storage.UTF16Len(text) > limit {
		return "", &markupError{key: "input.too_long", n: limit}
	}
	return text, nil
}

// spanHTML is how the preview shows each kind of formatting.
var spanHTML = map[storage.SpanKind][2]string{
	storage.SpanBold:      {"<strong>", "</strong>"},
	storage.SpanItalic:    {"<em>", "</em>"},
	storage.SpanUnderline: {"<u>", "</u>"},
	storage.SpanStrike:    {"<s>", "</s>"},
	storage.SpanSpoiler:   {`<span class="spoiler">`, "</span>"},
	storage.SpanCode:      {"<code>", "</code>"},
	storage.SpanPre:       {"<pre>", "</pre>"},
	storage.SpanQuote:     {"<blockquote>", "</blockquote>"},
}

// formatHTML shows a text with its formatting as a recipient on Telegram
// sees it: the text escaped, each span a tag, overlapping spans closed and
// opened again at each boundary. Spans that do not fit are left out.
func formatHTML(text string, spans []storage.Span) template.HTML {
	units := utf16.Encode([]rune(text))
	var valid []storage.Span
	for _, s := range spans {
		if s.Valid(len(units)) {
			valid = append(valid, s)
		}
	}
	// Outer spans first: those starting earlier, then the longer.
	slices.SortStableFunc(valid, func(a, b storage.Span) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return b.Length - a.Length
	})
	cuts := []int{0, len(units)}
	for _, s := range valid {
		cuts = append(cuts, s.Offset, s.Offset+s.Length)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var b strings.Builder
	var stack []int // indexes into valid, outermost first
	closeTo := func(depth int) {
		for len(stack) > depth {
			b.WriteString(tagOf(valid[stack[len(stack)-1]])[1])
			stack = stack[:len(stack)-1]
		}
	}
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		var active []int
		for j, s := range valid {
			if s.Offset <= from && to <= s.Offset+s.Length {
				active = append(active, j)
			}
		}
		keep := 0
		for keep < len(stack) && keep < len(active) && stack[keep] == active[keep] {
			keep++
		}
		closeTo(keep)
		for _, j := range active[keep:] {
			b.WriteString(tagOf(valid[j])[0])
			stack = append(stack, j)
		}
		b.WriteString(html.EscapeString(string(utf16.Decode(units[from:to]))))
	}
	closeTo(0)
	// Every piece of text is escaped above, and every tag is ours.
	return template.HTML(b.String())
}

// tagOf is the opening and closing tag of a span in the preview.
func tagOf(s storage.Span) [2]string {
	if s.Kind == storage.SpanLink {
		return [2]string{`<a href="` + html.EscapeString(s.URL) + `" rel="noopener noreferrer nofollow">`, "</a>"}
	}
	return spanHTML[s.Kind]
}
