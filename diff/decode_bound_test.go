package diff

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// A candidate body that decodes to far more than the primary's is a difference
// already: it is decoded no further than decodeRatio times the primary's
// decoded size (at least decodeFloor), so a gzip bomb costs the comparison a
// bounded amount of work, not the whole MaxDecodedBytes cap.
func TestCandidateDecodingBoundedByPrimarySize(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}
	small := []byte(`{"items":[` + strings.Repeat(`{"id":1},`, 100) + `{"id":2}]}`) // ~900 bytes
	bomb := append([]byte(`{"items":"`), bytes.Repeat([]byte("a"), 10<<20)...)      // 10 MiB, under the cap
	bomb = append(bomb, `"}`...)
	primary := &Response{Status: 200, Header: h, Body: gzipped(t, small)}
	candidate := &Response{Status: 200, Header: h, Body: gzipped(t, bomb)}

	d := Compare(primary, candidate, nil).Differences
	if len(d) != 1 || d[0].Path != "body" {
		t.Fatalf("differences %+v, want one at body", d)
	}
	limit := max(decodeRatio*len(small), decodeFloor)
	if want := fmt.Sprintf("candidate body could not be decoded: gzip: decodes to more than the cap of %d bytes", limit); !strings.Contains(d[0].Note, want) {
		t.Errorf("note %q, want it to say %q", d[0].Note, want)
	}

	if !DecodedOverCap(d[0].Note, "candidate") || DecodedOverCap(d[0].Note, "primary") {
		t.Errorf("DecodedOverCap(%q) names the wrong side", d[0].Note)
	}
	corrupt := Compare(primary, &Response{Status: 200, Header: h, Body: []byte("not gzip")}, nil).Differences
	if len(corrupt) != 1 || DecodedOverCap(corrupt[0].Note, "candidate") {
		t.Errorf("a corrupt body read as decoding over the cap: %+v", corrupt)
	}

	// Within the ratio, both are decoded and compared as JSON.
	larger := []byte(`{"items":"` + strings.Repeat("b", 50<<10) + `"}`)
	d = Compare(primary, &Response{Status: 200, Header: h, Body: gzipped(t, larger)}, nil).Differences
	if len(d) != 1 || d[0].Path != "body.items" {
		t.Errorf("differences %+v, want the JSON one at body.items", d)
	}
}
