// Command commentbot learns to write Reddit comments with its own recurrent language
// models and posts them to Discord. Run `commentbot help` for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"commentbot/cli"
)

func main() {
	// The first SIGINT/SIGTERM cancels ctx (a clean shutdown); stop() then restores the
	// default handling so that a second signal exits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	env := cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv,
	}
	os.Exit(cli.Main(ctx, os.Args[1:], env))
}
