package shadow_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
)

// observations hands each observation to a channel.
type observations chan report.Observation

func (o observations) Observe(ob report.Observation) { o <- ob }

// A proxy in shadow mode: the client is served by the primary, the candidate gets a
// copy, and the comparison arrives at the observer off the serving path.
func ExampleProxy() {
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items":[1,2]}`)
	}))
	defer primary.Close()
	candidate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items":[1,3]}`)
	}))
	defer candidate.Close()
	pu, _ := url.Parse(primary.URL)
	cu, _ := url.Parse(candidate.URL)

	rt, _ := rules.NewRouter(&rules.Config{}) // shadow mode: nothing cut over
	obs := make(observations, 1)
	p := &shadow.Proxy{Primary: pu, Candidate: cu, Decide: rt.Decide, Observer: obs}
	front := httptest.NewServer(p)
	defer front.Close()

	res, err := http.Get(front.URL + "/api/sessions")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Printf("client: %d %s\n", res.StatusCode, body)

	o := <-obs
	fmt.Println("route:", o.Route)
	for _, d := range o.Differences {
		fmt.Printf("difference: %s %s primary=%s candidate=%s\n", d.Path, d.Kind, d.Primary, d.Candidate)
	}
	p.Close(context.Background())
	// Output:
	// client: 200 {"items":[1,2]}
	// route: GET /api/sessions
	// difference: body.items.1 changed primary=2 candidate=3
}
