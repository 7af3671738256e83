package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	// The one gin import outside server/: the yardstick must be the same
	// framework, bare, for the comparison to mean anything.
	"github.com/gin-gonic/gin"
)

type baselineAssignRequest struct {
	Experiment string         `json:"experiment"`
	UnitID     string         `json:"unit_id"`
	Attributes map[string]any `json:"attributes"`
}

type baselineAssignment struct {
	Experiment   string `json:"experiment"`
	UnitID       string `json:"unit_id"`
	Variant      string `json:"variant"`
	InExperiment bool   `json:"in_experiment"`
	Reason       string `json:"reason"`
}

// baselineHandler decodes the assign JSON and answers a fixed assignment:
// no auth, no hashing, no storage. It is what "a bare gin handler decoding
// the same JSON" means in issue 6.
func baselineHandler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/api/v1/assign", func(c *gin.Context) {
		var req baselineAssignRequest
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"detail": err.Error()})
			return
		}
		c.JSON(http.StatusOK, baselineAssignment{Experiment: req.Experiment, UnitID: req.UnitID,
			Variant: "control", InExperiment: true, Reason: "assigned"})
	})
	return r
}

func baselineCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %v", err)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("--addr %q: the host must be loopback", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: baselineHandler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stderr, "baseline gin handler listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
