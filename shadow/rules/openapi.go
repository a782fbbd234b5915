package rules

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/parity-dev/parity/report/route"
)

// OpenAPI document limits: a document is read whole, so it is capped, and a URL
// must answer in time, since reloads wait for it.
const (
	maxOpenAPISize = 16 << 20
	openAPITimeout = 5 * time.Second
)

// LoadOpenAPI reads the route templates of the OpenAPI 3.x document at ref: an
// http or https URL, or a file. Errors are one line naming ref.
func LoadOpenAPI(ctx context.Context, ref string) ([]route.Declared, error) {
	data, err := readOpenAPI(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("openapi %s: %w", ref, err)
	}
	return route.ParseOpenAPI(ref, data)
}

func readOpenAPI(ctx context.Context, ref string) ([]byte, error) {
	if !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") {
		f, err := os.Open(ref)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readCapped(f)
	}
	ctx, cancel := context.WithTimeout(ctx, openAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET answered %s", res.Status)
	}
	return readCapped(res.Body)
}

func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxOpenAPISize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxOpenAPISize {
		return nil, fmt.Errorf("larger than %d bytes", maxOpenAPISize)
	}
	return data, nil
}
