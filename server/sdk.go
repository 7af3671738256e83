package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// definitions serves the SDK payload; an unchanged catalog costs a 304.
func (s *Server) definitions(c *gin.Context) error {
	payload, etag := s.svc.Catalog().Definitions()
	c.Header("ETag", etag)
	c.Header("Cache-Control", "no-cache")
	if match := c.GetHeader("If-None-Match"); match != "" && match == etag {
		c.Status(http.StatusNotModified)
		return nil
	}
	c.Data(http.StatusOK, "application/json", payload)
	return nil
}

// stream pushes the definitions over Server-Sent Events on connect and at
// every change, so that stopping an experiment reaches SDKs at once.
func (s *Server) stream(c *gin.Context) error {
	rc := http.NewResponseController(c.Writer)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	catalog := s.svc.Catalog()
	ping := time.NewTicker(s.streamPing)
	defer ping.Stop()
	lastETag := ""
	for {
		changed := catalog.Changed()
		payload, etag := catalog.Definitions()
		if etag != lastETag {
			if _, err := w.Write([]byte("event: definitions\ndata: ")); err != nil {
				return nil
			}
			w.Write(payload)
			w.Write([]byte("\n\n"))
			lastETag = etag
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		select {
		case <-c.Request.Context().Done():
			return nil
		case <-changed:
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return nil
			}
		}
	}
}
