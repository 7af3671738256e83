package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Server) createStudy(c *gin.Context) error {
	var in experiments.StudyInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	st, err := s.svc.CreateStudy(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/studies/"+st.Key)
	respond(c, http.StatusCreated, st)
	return nil
}

func (s *Server) listStudies(c *gin.Context) error {
	list, err := s.svc.Studies(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"studies": list})
	return nil
}

func (s *Server) getStudy(c *gin.Context) error {
	st, err := s.svc.Study(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, st)
	return nil
}

func (s *Server) updateStudy(c *gin.Context) error {
	var in experiments.StudyInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	st, err := s.svc.UpdateStudy(c.Request.Context(), c.Param("key"), in)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, st)
	return nil
}

func (s *Server) studyReport(c *gin.Context) error {
	r, err := s.svc.StudyReport(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, r)
	return nil
}
