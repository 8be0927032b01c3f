package handlers

import (
	"reflect"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestKeepFormatFollowsTheTrimmedText(t *testing.T) {
	t.Parallel()
	bold := func(off, n int) storage.Span { return storage.Span{Kind: storage.SpanBold, Offset: off, Length: n} }
	tests := []struct {
		name      string
		raw, text string
		in, want  []storage.Span
	}{
		{"untouched", "Сбор 📣", "Сбор 📣", []storage.Span{bold(5, 2)}, []storage.Span{bold(5, 2)}},
		{"leading space moves it left", "  Сбор", "Сбор", []storage.Span{bold(2, 4)}, []storage.Span{bold(0, 4)}},
		{"cut at the trimmed end", "Сбор  ", "Сбор", []storage.Span{bold(0, 6)}, []storage.Span{bold(0, 4)}},
		{"over trimmed space only: dropped", "Сбор  ", "Сбор", []storage.Span{bold(4, 2)}, nil},
		{"line ends changed: dropped", "a\r\nb", "a\nb", []storage.Span{bold(0, 1)}, nil},
		{"caption-less photo", "", "", []storage.Span{bold(0, 1)}, nil},
	}
	for _, tt := range tests {
		if got := keepFormat(tt.raw, tt.text, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: keepFormat = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
