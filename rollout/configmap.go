package rollout

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// The service account's files in a pod.
const (
	serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	apiTimeout        = 10 * time.Second
)

// ConfigMap is a Store in one key of a Kubernetes ConfigMap, read and
// written through the API server; a replica that mounts the ConfigMap sees
// the new file when the kubelet next syncs it and reloads it. A write sends
// the resourceVersion read, so that it never overwrites an edit made since
// (the API answers 409, and the next evaluation reads again).
type ConfigMap struct {
	// API is the API server's base URL (https://10.96.0.1:443).
	API string
	// Namespace, Name and Key name the ConfigMap and the key holding parity.yaml.
	Namespace, Name, Key string
	// Token returns the bearer token, read anew for each request (projected
	// tokens rotate).
	Token func() (string, error)
	// Client talks to the API server (trusting its CA).
	Client *http.Client

	mu     sync.Mutex
	object map[string]any // the ConfigMap as last read, every field kept (its resourceVersion too)
}

// InClusterConfigMap is the ConfigMap namespace/name's key, reached with the
// pod's service account (KUBERNETES_SERVICE_HOST and _PORT, its token and CA).
func InClusterConfigMap(ref, key string) (*ConfigMap, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("%q: want NAMESPACE/NAME", ref)
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset")
	}
	ca, err := os.ReadFile(serviceAccountDir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("read the service account's CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("the service account's ca.crt holds no certificate")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &ConfigMap{
		API: "https://" + net.JoinHostPort(host, port), Namespace: ns, Name: name, Key: key,
		Token: func() (string, error) {
			b, err := os.ReadFile(serviceAccountDir + "/token")
			return strings.TrimSpace(string(b)), err
		},
		Client: &http.Client{Transport: tr, Timeout: apiTimeout},
	}, nil
}

func (c *ConfigMap) url() string {
	return fmt.Sprintf("%s/api/v1/namespaces/%s/configmaps/%s", strings.TrimSuffix(c.API, "/"), url.PathEscape(c.Namespace), url.PathEscape(c.Name))
}

// Read returns the key's value, remembering the ConfigMap (and its resourceVersion).
func (c *ConfigMap) Read() ([]byte, error) {
	var obj map[string]any
	if err := c.call(http.MethodGet, nil, &obj); err != nil {
		return nil, err
	}
	data, _ := obj["data"].(map[string]any)
	v, ok := data[c.Key].(string)
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %s", c.Namespace, c.Name, c.Key)
	}
	c.mu.Lock()
	c.object = obj
	c.mu.Unlock()
	return []byte(v), nil
}

// Write puts data in the key, on the version last read.
func (c *ConfigMap) Write(data []byte) error {
	c.mu.Lock()
	obj := c.object
	c.mu.Unlock()
	if obj == nil {
		return errors.New("ConfigMap written before it was read")
	}
	d, _ := obj["data"].(map[string]any)
	d[c.Key] = string(data) // the object read carries its resourceVersion
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return c.call(http.MethodPut, body, nil)
}

// Other is the Store of another key of the same ConfigMap (the fleet's
// state beside its config), which may not exist yet: Read answers nil then,
// and Write reads the ConfigMap again and puts the key on that version.
func (c *ConfigMap) Other(key string) Store {
	return &configMapKey{cm: &ConfigMap{API: c.API, Namespace: c.Namespace, Name: c.Name, Key: key, Token: c.Token, Client: c.Client}}
}

type configMapKey struct{ cm *ConfigMap }

func (k *configMapKey) Read() ([]byte, error) {
	var obj map[string]any
	if err := k.cm.call(http.MethodGet, nil, &obj); err != nil {
		return nil, err
	}
	data, _ := obj["data"].(map[string]any)
	if v, ok := data[k.cm.Key].(string); ok {
		return []byte(v), nil
	}
	return nil, nil
}

func (k *configMapKey) Write(data []byte) error {
	var obj map[string]any
	if err := k.cm.call(http.MethodGet, nil, &obj); err != nil {
		return err
	}
	d, _ := obj["data"].(map[string]any)
	if d == nil {
		d = map[string]any{}
		obj["data"] = d
	}
	d[k.cm.Key] = string(data)
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return k.cm.call(http.MethodPut, body, nil)
}

// call sends one request to the ConfigMap's URL. Errors name the ConfigMap,
// never the token.
func (c *ConfigMap) call(method string, body []byte, out any) error {
	what := fmt.Sprintf("%s ConfigMap %s/%s", strings.ToLower(method), c.Namespace, c.Name)
	tok, err := c.Token()
	if err != nil {
		return fmt.Errorf("%s: read the service account's token: %v", what, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if resp.StatusCode/100 != 2 {
		var st struct{ Message string }
		json.Unmarshal(raw, &st)
		return fmt.Errorf("%s: %s %s", what, resp.Status, st.Message)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
	}
	return nil
}
