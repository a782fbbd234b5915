package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/parity-dev/parity/report"
)

// State is where the rollout stands.
type State string

// The states.
const (
	Progressing State = "progressing" // at a weight, moving on when the gate passes
	Holding     State = "holding"     // at a weight, waiting for evidence or a confirmation
	Paused      State = "paused"      // a person, or cutover.enabled false, stopped it
	RolledBack  State = "rolled_back" // a failure (or an abort) took a step back to 0; a person resumes
	Done        State = "done"        // every step at 100%
)

// EventType names a decision.
type EventType string

// The decisions.
const (
	Advance  EventType = "advance"  // to the next weight, or the next step's first
	Hold     EventType = "hold"     // stays: evidence lacking, a check failing, no confirmation
	Rollback EventType = "rollback" // the gate failed a step: back to 0
	Pause    EventType = "pause"
	Resume   EventType = "resume"
	Promote  EventType = "promote" // a person moved to the next weight
	Abort    EventType = "abort"   // a person rolled the current step back
	Finish   EventType = "done"    // the last step held 100% for its minimum time
)

// EventTypes are every event type, for metrics.
var EventTypes = []EventType{Advance, Hold, Rollback, Pause, Resume, Promote, Abort, Finish}

// Event is one decision, with what decided it.
type Event struct {
	Time   time.Time `json:"time"`
	Type   EventType `json:"type"`
	Step   int       `json:"step"`   // from 1
	Routes []string  `json:"routes"` // the step's prefixes moved (or held)
	From   int       `json:"from"`   // weight before, percent
	To     int       `json:"to"`     // weight after
	// Reason says in one line why: the gate's evidence of the route that
	// decided (estimate, interval, the difference), or who acted.
	Reason string `json:"reason"`
	// Evidence is the gate's evidence of the routes that decided.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Evaluation is the number of the evaluation that decided (counted since
	// the controller started); 0 for a person's action.
	Evaluation int64 `json:"evaluation,omitempty"`
}

// Evidence is one route's verdict as an event carries it.
type Evidence struct {
	Route    string         `json:"route"`
	Step     int            `json:"step"`
	Verdict  report.Verdict `json:"verdict"`
	Compared int64          `json:"compared"`
	// Parity is matched of compared with its always-valid interval.
	Parity   float64    `json:"parity"`
	Interval [2]float64 `json:"interval"`
	// Difference is the route's most frequent difference ("body.total changed
	// ×40"), when it has one.
	Difference string `json:"difference,omitempty"`
	Reason     string `json:"reason"`
	// Window, when set, is the length of the window whose evidence decided
	// ("2m": since the current weight began), not the total's.
	Window string `json:"window,omitempty"`
}

// Status is GET /parity/rollout.
type Status struct {
	Mode     string `json:"mode"`
	State    State  `json:"state,omitempty"`
	Step     int    `json:"step,omitempty"`
	StepName string `json:"step_name,omitempty"`
	Steps    int    `json:"steps,omitempty"`
	// Enabled is cutover.enabled in force: false sends nothing to the candidate.
	Enabled bool `json:"enabled"`
	// Weights maps each prefix of the steps begun to its percent (100 included).
	Weights map[string]int `json:"weights"`
	// Since is when the current weight began.
	Since    *time.Time `json:"since,omitempty"`
	Failures int        `json:"failures,omitempty"` // consecutive failing evaluations
	// Verdict is the gate's verdict on the steps judged at the last
	// evaluation, and Reason its one line; empty before the first.
	Verdict report.Verdict `json:"verdict,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	// Evaluations counts the evaluations begun since the controller started.
	Evaluations int64   `json:"evaluations"`
	Events      []Event `json:"events"`
}

// maxEvents bounds the events kept in the state and served.
const maxEvents = 200

// persisted is the state file: the plan's groups it was written for, where
// the rollout stands and its events.
type persisted struct {
	Version  int        `json:"version"`
	Groups   [][]string `json:"groups"` // each step's new prefixes
	State    State      `json:"state"`
	Step     int        `json:"step"`    // from 1
	Weights  []int      `json:"weights"` // per step
	Since    time.Time  `json:"since"`
	Failures int        `json:"failures"`
	Events   []Event    `json:"events"`
}

const stateVersion = 1

func readState(st Store, name string) (*persisted, error) {
	data, err := st.Read()
	if err != nil {
		return nil, fmt.Errorf("read rollout state: %w", err)
	}
	if data == nil {
		return nil, nil
	}
	var p persisted
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read rollout state %s: %v", name, err)
	}
	if p.Version != stateVersion {
		return nil, fmt.Errorf("read rollout state %s: version %d, want %d", name, p.Version, stateVersion)
	}
	return &p, nil
}

func writeState(st Store, p *persisted) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return st.Write(append(data, '\n'))
}

// optionalFile is a state file, written atomically; its absence is no state.
type optionalFile string

func (f optionalFile) Read() ([]byte, error) {
	data, err := os.ReadFile(string(f))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (f optionalFile) Write(data []byte) error { return writeAtomic(string(f), data) }

// sameGroups reports whether a state was written for these groups.
func sameGroups(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}
