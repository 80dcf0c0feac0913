package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// probeCmd is a container's health check without curl in the image: GET the
// URL, exit 0 on a 2xx answer, 1 otherwise with the reason on stderr.
func probeCmd(ctx context.Context, args []string, env Env) error {
	fs := flags("probe", "[--timeout D] URL",
		"GET URL and exit 0 when it answers 2xx (e.g. http://127.0.0.1:9464/readyz), 1 otherwise.", env)
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe: %s answered %s: %s", fs.Arg(0), resp.Status, body)
	}
	return nil
}
