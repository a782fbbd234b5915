package rollout

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"

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
		if u := r.Header.Get("X-Parity-User"); u != "" && len(u) < 64 {
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
