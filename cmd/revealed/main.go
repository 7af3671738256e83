// Command revealed is the single binary of Revealed: the server, its
// migrations, and the analysis of exported data.
//
//	revealed serve [--addr A] [--db PATH|URL] [--demo]
//	revealed migrate [--db PATH|URL]
//	revealed refresh [--db PATH|URL] KEY...
//	revealed analyze [flags] FILE.csv
//	revealed drivers --outcome COLUMN [--stated stated.csv] [flags] ratings.csv
//	revealed scoreboard [--format text|json|csv] [--alpha A] [--margin M] results.csv
//	revealed version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/revealed-ab/revealed/analysis/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks errors that are the caller's, answered with exit status 2.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], stdout, stderr)
	case "refresh":
		err = refreshCmd(ctx, args[1:], stdout, stderr)
	case "analyze":
		return cli.Run(ctx, args[1:], os.Stdin, stdout, stderr)
	case "drivers":
		return cli.RunDrivers(ctx, args[1:], os.Stdin, stdout, stderr)
	case "scoreboard":
		return cli.RunScoreboard(ctx, args[1:], os.Stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "revealed", buildVersion())
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "revealed: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "revealed:", err)
		return 2
	}
	fmt.Fprintln(stderr, "revealed:", err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Revealed puts stated preferences to the test of revealed behaviour.

Usage:
  revealed serve [--addr 127.0.0.1:8080] [--db revealed.db|postgres://…] [--demo]
  revealed migrate [--db …]
  revealed refresh [--db …] KEY...
  revealed analyze [--format text|json|csv] [--control KEY] [--alpha A] [--correction holm|bh|none]
                   [--sequential NSTAR] [--weights k=w,...] [--claims claims.json] FILE.csv
  revealed drivers --outcome COLUMN [--stated stated.csv] [--drivers a,b,...] [--format text|json|csv]
                   [--alpha A] [--bootstrap B] [--seed S] ratings.csv
  revealed scoreboard [--format text|json|csv] [--alpha A] [--margin M] results.csv
  revealed version

Run "revealed COMMAND -h" for a command's flags.
`)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}
