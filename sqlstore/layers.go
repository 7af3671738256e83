package sqlstore

import (
	"context"

	"github.com/revealed-ab/revealed/experiments"
)

func layerOf(r keyedRow) (*experiments.Layer, error) {
	l := &experiments.Layer{}
	var err error
	l.CreatedAt, l.UpdatedAt, l.Version, err = decodeKeyed(r, "layer", &l.LayerInput)
	return l, err
}

func holdoutOf(r keyedRow) (*experiments.Holdout, error) {
	h := &experiments.Holdout{}
	var err error
	h.CreatedAt, h.UpdatedAt, h.Version, err = decodeKeyed(r, "holdout", &h.HoldoutInput)
	return h, err
}

func (s *Store) SaveLayer(ctx context.Context, l *experiments.Layer, audit *experiments.AuditEntry) error {
	row, err := newKeyedRow(l.Key, l.LayerInput, l.CreatedAt, l.UpdatedAt, l.Version)
	if err != nil {
		return err
	}
	return s.saveKeyed(ctx, "layers", "layer", row, true, audit)
}

func (s *Store) GetLayer(ctx context.Context, key string) (*experiments.Layer, error) {
	row, err := s.getKeyed(ctx, "layers", "layer", key)
	if err != nil {
		return nil, err
	}
	return layerOf(row)
}

func (s *Store) ListLayers(ctx context.Context) ([]*experiments.Layer, error) {
	return listOf(ctx, s, "layers", layerOf)
}

func (s *Store) SaveHoldout(ctx context.Context, h *experiments.Holdout, audit *experiments.AuditEntry) error {
	row, err := newKeyedRow(h.Key, h.HoldoutInput, h.CreatedAt, h.UpdatedAt, h.Version)
	if err != nil {
		return err
	}
	return s.saveKeyed(ctx, "holdouts", "holdout", row, true, audit)
}

func (s *Store) GetHoldout(ctx context.Context, key string) (*experiments.Holdout, error) {
	row, err := s.getKeyed(ctx, "holdouts", "holdout", key)
	if err != nil {
		return nil, err
	}
	return holdoutOf(row)
}

func (s *Store) ListHoldouts(ctx context.Context) ([]*experiments.Holdout, error) {
	return listOf(ctx, s, "holdouts", holdoutOf)
}
