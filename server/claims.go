package server

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Server) createClaim(c *gin.Context) error {
	var in experiments.Claim
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	claim, err := s.svc.CreateClaim(c.Request.Context(), c.Param("key"), in.Claim)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/experiments/"+c.Param("key")+"/claims/"+claim.ID)
	respond(c, http.StatusCreated, claim)
	return nil
}

func (s *Server) listClaims(c *gin.Context) error {
	claims, err := s.svc.Claims(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"claims": claims})
	return nil
}

func (s *Server) getClaim(c *gin.Context) error {
	claim, err := s.svc.Claim(c.Request.Context(), c.Param("key"), c.Param("id"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, claim)
	return nil
}

func (s *Server) claimVersions(c *gin.Context) error {
	versions, err := s.svc.ClaimHistory(c.Request.Context(), c.Param("key"), c.Param("id"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"versions": versions})
	return nil
}

func (s *Server) updateClaim(c *gin.Context) error {
	var in experiments.Claim
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	claim, err := s.svc.UpdateClaim(c.Request.Context(), c.Param("key"), c.Param("id"), in.Claim)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, claim)
	return nil
}

func (s *Server) deleteClaim(c *gin.Context) error {
	if err := s.svc.DeleteClaim(c.Request.Context(), c.Param("key"), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type snapshotJSON struct {
	ComputedAt string          `json:"computed_at"`
	Report     json.RawMessage `json:"report"`
}

func (s *Server) snapshots(c *gin.Context) error {
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	snaps, err := s.svc.Snapshots(c.Request.Context(), c.Param("key"), limit)
	if err != nil {
		return err
	}
	out := make([]snapshotJSON, len(snaps))
	for i, sn := range snaps {
		out[i] = snapshotJSON{ComputedAt: sn.ComputedAt.Format("2006-01-02T15:04:05.000000Z07:00"), Report: sn.Report}
	}
	respond(c, http.StatusOK, gin.H{"snapshots": out})
	return nil
}
