package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Server) createLayer(c *gin.Context) error {
	var in experiments.LayerInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	l, err := s.svc.CreateLayer(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/layers/"+l.Key)
	respond(c, http.StatusCreated, l)
	return nil
}

func (s *Server) listLayers(c *gin.Context) error {
	list, err := s.svc.Layers(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"layers": list})
	return nil
}

func (s *Server) getLayer(c *gin.Context) error {
	l, err := s.svc.Layer(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, l)
	return nil
}

func (s *Server) createHoldout(c *gin.Context) error {
	var in experiments.HoldoutInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	h, err := s.svc.CreateHoldout(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/holdouts/"+h.Key)
	respond(c, http.StatusCreated, h)
	return nil
}

func (s *Server) listHoldouts(c *gin.Context) error {
	list, err := s.svc.Holdouts(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"holdouts": list})
	return nil
}

func (s *Server) getHoldout(c *gin.Context) error {
	h, err := s.svc.Holdout(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, h)
	return nil
}

func (s *Server) holdoutReport(c *gin.Context) error {
	r, err := s.svc.HoldoutReport(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, r)
	return nil
}
