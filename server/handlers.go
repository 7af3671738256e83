package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

type createKeyRequest struct {
	Kind experiments.KeyKind `json:"kind"`
	Name string              `json:"name"`
}

func (s *Server) createKey(c *gin.Context) error {
	var req createKeyRequest
	if err := decodeJSON(c, maxDefinitionBody, &req); err != nil {
		return err
	}
	k, err := s.svc.CreateKey(c.Request.Context(), req.Kind, req.Name)
	if err != nil {
		return err
	}
	logger(c).Info("key created", "key_id", k.ID, "kind", k.Kind, "by", currentKey(c).ID)
	respond(c, http.StatusCreated, k)
	return nil
}

func (s *Server) listKeys(c *gin.Context) error {
	keys, err := s.svc.ListKeys(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"keys": keys})
	return nil
}

func (s *Server) revokeKey(c *gin.Context) error {
	id := c.Param("id")
	if err := s.svc.RevokeKey(c.Request.Context(), id); err != nil {
		return err
	}
	s.auth.forget(id)
	c.Status(http.StatusNoContent)
	return nil
}

func (s *Server) createExperiment(c *gin.Context) error {
	var in experiments.ExperimentInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	e, err := s.svc.CreateExperiment(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/experiments/"+e.Key)
	respond(c, http.StatusCreated, e)
	return nil
}

func (s *Server) listExperiments(c *gin.Context) error {
	list, err := s.svc.ListExperiments(c.Request.Context(), experiments.Status(c.Query("status")))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"experiments": list})
	return nil
}

func (s *Server) getExperiment(c *gin.Context) error {
	e, err := s.svc.GetExperiment(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, e)
	return nil
}

func (s *Server) updateExperiment(c *gin.Context) error {
	var in experiments.ExperimentInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	e, err := s.svc.UpdateExperiment(c.Request.Context(), c.Param("key"), in)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, e)
	return nil
}

func (s *Server) startExperiment(c *gin.Context) error {
	e, err := s.svc.Start(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, e)
	return nil
}

func (s *Server) stopExperiment(c *gin.Context) error {
	e, err := s.svc.Stop(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, e)
	return nil
}

func (s *Server) report(c *gin.Context) error {
	r, err := s.svc.Report(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, r)
	return nil
}

func (s *Server) assign(c *gin.Context) error {
	var req experiments.AssignRequest
	if err := decodeJSON(c, maxDefinitionBody, &req); err != nil {
		return err
	}
	a, err := s.svc.Assign(c.Request.Context(), req)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, a)
	return nil
}

type eventBatch struct {
	Events []experiments.Event `json:"events"`
}

func (s *Server) events(c *gin.Context) error {
	var batch eventBatch
	if err := decodeJSON(c, maxEventsBody, &batch); err != nil {
		return err
	}
	s.metrics.batchSize.Observe(float64(len(batch.Events)))
	res, err := s.svc.Ingest(c.Request.Context(), batch.Events)
	if err != nil {
		return err
	}
	s.metrics.eventsAccepted.Add(float64(res.Accepted))
	s.metrics.eventsDup.Add(float64(res.Duplicates))
	respond(c, http.StatusAccepted, res)
	return nil
}

func (s *Server) auditLog(c *gin.Context) error {
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	before, err := queryInt(c, "before", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	entries, err := s.svc.Audit(c.Request.Context(), c.Query("target"), int64(before), limit)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"entries": entries})
	return nil
}

// queryInt reads an optional whole-number query parameter within [lo, hi].
func queryInt(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, experiments.Invalid("invalid query", []experiments.FieldError{{Field: name, Detail: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}})
	}
	return n, nil
}

// refresh recomputes the experiment's report now and answers it once it
// is stored as the snapshot that reads return. A large experiment's
// refresh may outlast the server's write timeout, which it lifts; and a
// client that stops waiting does not stop it: the snapshot is still stored.
func (s *Server) refresh(c *gin.Context) error {
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	v, err := s.svc.Refresh(context.WithoutCancel(c.Request.Context()), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, v.Report)
	return nil
}
