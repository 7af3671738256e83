package server

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

func (s *Server) createSource(c *gin.Context) error {
	var in experiments.SourceInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	src, err := s.svc.CreateSource(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/sources/"+src.Key)
	respond(c, http.StatusCreated, src)
	return nil
}

func (s *Server) listSources(c *gin.Context) error {
	list, err := s.svc.Sources(c.Request.Context())
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"sources": list})
	return nil
}

func (s *Server) getSource(c *gin.Context) error {
	src, err := s.svc.Source(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, src)
	return nil
}

func (s *Server) updateSource(c *gin.Context) error {
	var in experiments.SourceInput
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	src, err := s.svc.UpdateSource(c.Request.Context(), c.Param("key"), in)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, src)
	return nil
}

func (s *Server) createStatement(c *gin.Context) error {
	var in analysis.Statement
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	st, err := s.svc.CreateStatement(c.Request.Context(), c.Param("key"), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/sources/"+st.Source+"/statements/"+st.Key)
	respond(c, http.StatusCreated, st)
	return nil
}

func (s *Server) listStatements(c *gin.Context) error {
	list, err := s.svc.Statements(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"statements": list})
	return nil
}

func (s *Server) getStatement(c *gin.Context) error {
	st, err := s.svc.GetStatement(c.Request.Context(), c.Param("key"), c.Param("statement"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, st)
	return nil
}

func (s *Server) statementVersions(c *gin.Context) error {
	versions, err := s.svc.StatementHistory(c.Request.Context(), c.Param("key"), c.Param("statement"))
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, gin.H{"versions": versions})
	return nil
}

func (s *Server) updateStatement(c *gin.Context) error {
	var in analysis.Statement
	if err := decodeJSON(c, maxDefinitionBody, &in); err != nil {
		return err
	}
	st, err := s.svc.UpdateStatement(c.Request.Context(), c.Param("key"), c.Param("statement"), in)
	if err != nil {
		return err
	}
	respond(c, http.StatusOK, st)
	return nil
}

func (s *Server) deleteStatement(c *gin.Context) error {
	if err := s.svc.DeleteStatement(c.Request.Context(), c.Param("key"), c.Param("statement")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// scoreboard answers the source's scoreboard as JSON, or with
// ?format=csv as CSV (one row per test and one per pooled statement).
func (s *Server) scoreboard(c *gin.Context) error {
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" {
		return experiments.Invalid("invalid query", []experiments.FieldError{{Field: "format", Detail: `must be "json" or "csv"`}})
	}
	sb, err := s.svc.Scoreboard(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	if format == "json" {
		respond(c, http.StatusOK, sb)
		return nil
	}
	var b bytes.Buffer
	if err := analysis.WriteScoreboardCSV(&b, sb.Scoreboard); err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="`+sb.Source.Key+`-scoreboard.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
	return nil
}
