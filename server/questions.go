package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Server) createQuestion(c *gin.Context) error {
	var in experiments.QuestionInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	q, err := s.svc.CreateQuestion(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/questions/"+q.Key)
	respond(c, http.StatusCreated, q)
	return nil
}

func (s *Server) listQuestions(c *gin.Context) error {
	qs, err := s.svc.Questions(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"questions": qs})
	return nil
}

func (s *Server) getQuestion(c *gin.Context) error {
	q, err := s.svc.Question(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, q)
	return nil
}

func (s *Server) updateQuestion(c *gin.Context) error {
	var in experiments.QuestionInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	q, err := s.svc.UpdateQuestion(c.Request.Context(), c.Param("key"), in)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, q)
	return nil
}
