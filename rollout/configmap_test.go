package rollout

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parity-dev/parity/shadow/rules"
)

// apiServer is the part of the Kubernetes API a fleet controller uses: GET and
// PUT of one ConfigMap, with the bearer token and optimistic concurrency on
// resourceVersion.
type apiServer struct {
	mu      sync.Mutex
	version int
	data    map[string]string
	writes  int
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer sa-token" {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/v1/namespaces/portal/configmaps/parity-config" {
		http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
		return
	}
	obj := func() map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "parity-config", "namespace": "portal", "resourceVersion": strconv.Itoa(a.version),
				"labels": map[string]any{"app.kubernetes.io/name": "parity"}},
			"data": a.data}
	}
	switch r.Method {
	case http.MethodGet:
		json.NewEncoder(w).Encode(obj())
	case http.MethodPut:
		var in struct {
			Metadata struct {
				ResourceVersion string            `json:"resourceVersion"`
				Labels          map[string]string `json:"labels"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if in.Metadata.ResourceVersion != strconv.Itoa(a.version) {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(map[string]string{"message": "the object has been modified"})
			return
		}
		if in.Metadata.Labels["app.kubernetes.io/name"] != "parity" {
			http.Error(w, `{"message":"labels lost"}`, http.StatusBadRequest)
			return
		}
		a.version++
		a.data = in.Data
		a.writes++
		json.NewEncoder(w).Encode(obj())
	}
}

// The fleet's writer edits a ConfigMap's key through the API, keeps the
// object's other fields, and never overwrites an edit made since it read.
func TestConfigMapStore(t *testing.T) {
	api := &apiServer{version: 7, data: map[string]string{"parity.yaml": "cutover:\n  enabled: true\n", "other": "kept"}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	cm := &ConfigMap{API: srv.URL, Namespace: "portal", Name: "parity-config", Key: "parity.yaml",
		Token: func() (string, error) { return "sa-token", nil }, Client: srv.Client()}
	f := &ConfigFile{Path: "parity-config/parity.yaml", Store: cm}
	if !f.Enabled() {
		t.Fatal("enabled not read from the ConfigMap")
	}
	if err := f.SetCutover(&rules.CutoverState{Routes: []string{"/api/health"}, Weights: map[string]int{"/api/sessions": 10}}); err != nil {
		t.Fatal(err)
	}
	if got := api.data["parity.yaml"]; got != "cutover:\n  enabled: true\n  routes: [/api/health]\n  weights: {/api/sessions: 10}\n  rest: 0\n" || api.data["other"] != "kept" || api.version != 8 {
		t.Errorf("ConfigMap after the write: %q (version %d)", api.data, api.version)
	}
	// Someone edits between the controller's read and its write: 409, nothing lost.
	if _, err := cm.Read(); err != nil {
		t.Fatal(err)
	}
	api.mu.Lock()
	api.version++
	api.mu.Unlock()
	err := cm.Write([]byte("cutover:\n  enabled: false\n"))
	if err == nil || !strings.Contains(err.Error(), "409") || strings.Contains(err.Error(), "sa-token") {
		t.Errorf("write over a newer version: %v", err)
	}
	if api.writes != 1 {
		t.Errorf("%d writes, want 1", api.writes)
	}
	// The state beside the config: absent, then written on the current version.
	state := cm.Other("parity-rollout.json")
	if got, err := state.Read(); got != nil || err != nil {
		t.Fatalf("no state yet: %q %v", got, err)
	}
	if err := state.Write([]byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := state.Read(); string(got) != `{"version":1}` || api.data["parity.yaml"] == "" {
		t.Errorf("state %q, data %v", got, api.data)
	}
	cm.Token = func() (string, error) { return "stolen", nil }
	if _, err := cm.Read(); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "stolen") {
		t.Errorf("read with a bad token: %v", err)
	}
}
