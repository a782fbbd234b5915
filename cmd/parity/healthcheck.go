package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// defaultHealthURL is the admin listener's /healthz as seen from inside the
// container or host parity runs in.
const defaultHealthURL = "http://127.0.0.1:9090/healthz"

// runHealthcheck asks URL once and exits 0 when it answers 2xx, 1 otherwise: a
// container image without a shell or curl uses it as its HEALTHCHECK.
func runHealthcheck(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlags("healthcheck", "[--timeout D] [URL (default "+defaultHealthURL+")]")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this `duration`")
	pos, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return c.usagef("healthcheck: want at most one URL, got %d", len(pos))
	}
	target := defaultHealthURL
	if len(pos) == 1 {
		target = pos[0]
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.usagef("healthcheck: %q: want an http(s) URL", target)
	}
	if *timeout <= 0 {
		return c.usagef("healthcheck: --timeout %v: want a positive duration", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return c.usagef("healthcheck: %v", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return c.fail(exitDifferent, fmt.Errorf("healthcheck: %w", err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.fail(exitDifferent, fmt.Errorf("healthcheck: %s answered %s", target, resp.Status))
	}
	fmt.Fprintf(c.stdout, "%s: %s\n", target, resp.Status)
	return exitOK
}
