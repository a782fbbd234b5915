package rollout

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/parity-dev/parity/shadow/rules"
)

// Handler serves GET /parity/rollout (the Status as JSON) and POST
// /parity/rollout/{pause,resume,promote,abort}, which answer the status after
// the action, 409 when the state does not allow it. The caller guards who may
// POST (the admin listener's Host and same-origin rules).
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /parity/rollout", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Status())
	})
	mux.HandleFunc("POST /parity/rollout/{action}", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, 4<<10))
		a := Action(r.PathValue("action"))
		who := "a person at the admin listener"
		if u := r.Header.Get("X-Parity-User"); plainName(u) {
			who = u
		}
		st, err := c.Do(a, who)
		switch {
		case errors.Is(err, ErrConflict):
			writeJSON(w, http.StatusConflict, errorBody{Error: err.Error(), Status: &st})
		case err != nil:
			writeJSON(w, http.StatusNotFound, errorBody{Error: err.Error()})
		default:
			writeJSON(w, http.StatusOK, st)
		}
	})
	return mux
}

// ManualHandler serves GET /parity/rollout when the autopilot is off: the
// mode, the weights of the cutover in force (cutover.routes at 100, and
// cutover.weights), and a 409 for every action.
func ManualHandler(cutover func() (rules.CutoverConfig, bool)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /parity/rollout", func(w http.ResponseWriter, r *http.Request) {
		c, enabled := cutover()
		weights := maps.Clone(c.Weights)
		if weights == nil {
			weights = map[string]int{}
		}
		for _, pre := range c.Routes {
			weights[pre] = 100
		}
		if r := c.RestPercent(); r > 0 {
			weights[CatchAll] = r
		}
		writeJSON(w, http.StatusOK, Status{Mode: "manual", Enabled: enabled, Weights: weights, Events: []Event{}})
	})
	mux.HandleFunc("POST /parity/rollout/{action}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusConflict, errorBody{Error: "the autopilot is off (rollout.mode: manual); start the proxy with --autopilot"})
	})
	return mux
}

// plainName reports whether a caller's name (X-Parity-User, which `parity
// rollout` fills from $USER) can go into events and logs as it is: 1 to 64
// letters, digits and . _ @ -.
func plainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("._@-", c)) {
			return false
		}
	}
	return true
}

type errorBody struct {
	Error  string  `json:"error"`
	Status *Status `json:"status,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
