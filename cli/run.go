package cli

import (
	"context"
	"errors"
)

func runBot(ctx context.Context, args []string, env Env) error {
	return errors.New("not wired yet")
}
