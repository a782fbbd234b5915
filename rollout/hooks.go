package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

func (c *Controller) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return &http.Client{Timeout: HookTimeout}
}

// confirmRequest is what confirm_url is sent before a promotion.
type confirmRequest struct {
	Step   int      `json:"step"`
	Routes []string `json:"routes"`
	From   int      `json:"from"`
	To     int      `json:"to"`
}

// confirm asks confirm_url whether step may go from one weight to the next:
// a 2xx answer within HookTimeout confirms, anything else does not (Flagger's
// confirm-promotion).
func (c *Controller) confirm(ctx context.Context, u string, step, from, to int) error {
	code, err := c.post(ctx, u, confirmRequest{Step: step, Routes: c.gs[step-1], From: from, To: to})
	if err != nil {
		return err
	}
	if code < 200 || code > 299 {
		return fmt.Errorf("it answered %d", code)
	}
	return nil
}

// post sends v as JSON to u within HookTimeout and returns the status. Errors
// never carry the URL, which may hold credentials.
func (c *Controller) post(ctx context.Context, u string, v any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, HookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "parity-rollout")
	resp, err := c.client().Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return 0, fmt.Errorf("not reached: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// sendHooks posts each event to the webhook until ctx ends, one at a time,
// each within HookTimeout; the queue in front of it is bounded (emit drops
// what does not fit), so a slow webhook delays nothing else.
func (c *Controller) sendHooks(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-c.hooks:
			u := c.settings().Webhook
			if u == "" {
				continue
			}
			code, err := c.post(ctx, u, e)
			switch {
			case err != nil:
				c.logger().Warn().Str("event", string(e.Type)).Str("error", err.Error()).Msg("rollout webhook not sent")
			case code < 200 || code > 299:
				c.logger().Warn().Str("event", string(e.Type)).Int("status", code).Msg("rollout webhook refused the event")
			}
		}
	}
}
