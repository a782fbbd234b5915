package diff

import (
	"bytes"
)

// Server-sent events (text/event-stream) are compared event by event, the way a
// client's EventSource sees them, whatever chunks the stream was written in: the stream
// is parsed (WHATWG HTML §9.2.6: lines end in CRLF, LF or CR; ":" lines are comments;
// one optional space after the colon is dropped; several data lines join with "\n";
// an event without data is not dispatched) into a JSON array of events, and that array
// is compared like any JSON body. Each event is an object
//
//	{"event": <name, "message" when not given>, "id": <when given>, "retry": <when given>, "data": <data>}
//
// where data is the JSON value itself when the data is JSON, else a string. Paths are
// therefore body.<event index>.event and body.<event index>.data.<gjson path>, and
// rules use them as usual: shape: [body.#.data.delta] for generated tokens, or
// shape: [body] when even the number of events may vary. A final event that the stream
// does not end with a blank line still counts, so that a truncated stream shows.

// sseToJSON converts an event stream to its JSON array of events.
func sseToJSON(stream []byte) []byte {
	stream = bytes.TrimPrefix(stream, []byte("\xef\xbb\xbf"))
	out := make([]byte, 0, len(stream)+64)
	out = append(out, '[')
	var (
		name, id, retry, data []byte
		hasData, hasID        bool
		hasRetry              bool
		events                int
	)
	dispatch := func() {
		if hasData {
			if events > 0 {
				out = append(out, ',')
			}
			events++
			out = append(out, `{"event":`...)
			if len(name) == 0 {
				out = append(out, `"message"`...)
			} else {
				out = appendQuoted(out, name)
			}
			if hasID {
				out = append(out, `,"id":`...)
				out = appendQuoted(out, id)
			}
			if hasRetry {
				out = append(out, `,"retry":`...)
				r := bytes.TrimLeft(retry, "0")
				if len(r) == 0 {
					r = []byte("0")
				}
				out = append(out, r...)
			}
			out = append(out, `,"data":`...)
			d := data[:len(data)-1] // without the "\n" after the last data line
			if t := bytes.TrimSpace(d); len(t) > 0 && validJSON(t) == nil {
				out = append(out, t...)
			} else {
				out = appendQuoted(out, d)
			}
			out = append(out, '}')
		}
		name, id, retry, data = name[:0], id[:0], retry[:0], data[:0]
		hasData, hasID, hasRetry = false, false, false
	}
	for len(stream) > 0 {
		var line []byte
		i := bytes.IndexAny(stream, "\r\n")
		if i < 0 {
			line, stream = stream, nil
		} else {
			line = stream[:i]
			if stream[i] == '\r' && i+1 < len(stream) && stream[i+1] == '\n' {
				i++
			}
			stream = stream[i+1:]
		}
		if len(line) == 0 {
			dispatch()
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			field, value = line[:c], line[c+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			name = append(name[:0], value...)
		case "data":
			data = append(data, value...)
			data = append(data, '\n')
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				id = append(id[:0], value...)
				hasID = true
			}
		case "retry":
			if isDigits(string(value)) {
				retry = append(retry[:0], value...)
				hasRetry = true
			}
		}
	}
	dispatch()
	return append(out, ']')
}
