package shadow

import "testing"

func TestIsEventStream(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"text/event-stream", true},
		{"text/event-stream; charset=utf-8", true},
		{"Text/Event-Stream;charset=UTF-8", true},
		{" text/event-stream ;x=1", true},
		{"text/event-streams", false},
		{"text/event-stream-ish", false},
		{"application/json", false},
		{"text/event", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := isEventStream(tc.ct); got != tc.want {
			t.Errorf("isEventStream(%q) = %v, want %v", tc.ct, got, tc.want)
		}
	}
}
