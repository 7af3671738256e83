// Package openfeature is an OpenFeature provider for Revealed experiments,
// built on github.com/open-feature/go-sdk and the Revealed Go SDK.
//
// An experiment is a string flag: the flag key is the experiment key, the
// evaluation context's targeting key is the unit id, and every other context
// field is an attribute for targeting. The value is the variant key.
//
//	| Revealed reason          | Value        | OpenFeature reason | Error code            |
//	|--------------------------|--------------|--------------------|-----------------------|
//	| assigned                 | the variant  | SPLIT              |                       |
//	| not_targeted             | the control  | DEFAULT            |                       |
//	| outside_traffic          | the control  | DEFAULT            |                       |
//	| not_running              | the control  | DISABLED           |                       |
//	| unknown_experiment       | the default  | ERROR              | FLAG_NOT_FOUND        |
//	| definitions_unavailable  | the default  | ERROR              | PROVIDER_NOT_READY    |
//	| (no targeting key)       | the default  | ERROR              | TARGETING_KEY_MISSING |
//
// The control is returned rather than the caller's default whenever the
// experiment is known, so that what a unit is shown matches what the
// analysis assumes. The flag metadata carries "in_experiment" (bool) and
// "reason" (Revealed's reason). Boolean, number and object evaluations
// answer TYPE_MISMATCH: variants are strings.
//
// The provider implements Tracker: Track sends an outcome with the
// targeting key as unit, the event name as metric and the details' value.
//
// This package is its own Go module so that the core SDK stays free of
// dependencies beyond the standard library.
package openfeature

import (
	"context"
	"fmt"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/revealed-ab/revealed/sdk"
)

// Provider adapts an sdk.Client to OpenFeature. The caller owns the client
// and closes it; shutting the provider down does not.
type Provider struct {
	client *sdk.Client
}

var (
	_ of.FeatureProvider = (*Provider)(nil)
	_ of.Tracker         = (*Provider)(nil)
)

// NewProvider returns a provider that evaluates with client.
func NewProvider(client *sdk.Client) *Provider {
	return &Provider{client: client}
}

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata {
	return of.Metadata{Name: "Revealed"}
}

// Hooks returns none.
func (p *Provider) Hooks() []of.Hook {
	return nil
}

// StringEvaluation assigns the unit and returns its variant.
func (p *Provider) StringEvaluation(ctx context.Context, flag string, defaultValue string, flatCtx of.FlattenedContext) (res of.StringResolutionDetail) {
	defer func() {
		// Evaluation must never take the caller down.
		if r := recover(); r != nil {
			res = fail(defaultValue, of.NewGeneralResolutionError(fmt.Sprint("revealed provider: ", r)))
		}
	}()
	if p == nil || p.client == nil {
		return fail(defaultValue, of.NewProviderFatalResolutionError("revealed provider has no client"))
	}
	unit, attrs, rerr := unitAndAttributes(flatCtx)
	if rerr != nil {
		return fail(defaultValue, *rerr)
	}
	a := p.client.Assign(ctx, flag, unit, attrs)
	meta := of.FlagMetadata{"in_experiment": a.InExperiment, "reason": a.Reason}
	switch a.Reason {
	case sdk.ReasonUnknownExperiment:
		return failMeta(defaultValue, of.NewFlagNotFoundResolutionError("no experiment "+flag), meta)
	case sdk.ReasonDefinitionsUnavailable:
		return failMeta(defaultValue, of.NewProviderNotReadyResolutionError("experiment definitions not loaded yet"), meta)
	}
	reason := of.DefaultReason
	switch a.Reason {
	case sdk.ReasonAssigned:
		reason = of.SplitReason
	case sdk.ReasonNotRunning:
		reason = of.DisabledReason
	}
	return of.StringResolutionDetail{
		Value: a.Variant,
		ProviderResolutionDetail: of.ProviderResolutionDetail{
			Reason: reason, Variant: a.Variant, FlagMetadata: meta,
		},
	}
}

func unitAndAttributes(flatCtx of.FlattenedContext) (string, sdk.Attributes, *of.ResolutionError) {
	raw, ok := flatCtx[of.TargetingKey]
	if !ok {
		e := of.NewTargetingKeyMissingResolutionError("the targeting key (unit id) is required")
		return "", nil, &e
	}
	unit, ok := raw.(string)
	if !ok || unit == "" {
		e := of.NewInvalidContextResolutionError(fmt.Sprintf("the targeting key must be a non-empty string, not %T %v", raw, raw))
		if ok {
			e = of.NewTargetingKeyMissingResolutionError("the targeting key (unit id) is empty")
		}
		return "", nil, &e
	}
	var attrs sdk.Attributes
	if len(flatCtx) > 1 {
		attrs = make(sdk.Attributes, len(flatCtx)-1)
		for k, v := range flatCtx {
			if k != of.TargetingKey {
				attrs[k] = v
			}
		}
	}
	return unit, attrs, nil
}

func fail(defaultValue string, e of.ResolutionError) of.StringResolutionDetail {
	return failMeta(defaultValue, e, nil)
}

func failMeta(defaultValue string, e of.ResolutionError, meta of.FlagMetadata) of.StringResolutionDetail {
	return of.StringResolutionDetail{
		Value: defaultValue,
		ProviderResolutionDetail: of.ProviderResolutionDetail{
			ResolutionError: e, Reason: of.ErrorReason, FlagMetadata: meta,
		},
	}
}

func mismatch(kind string) of.ProviderResolutionDetail {
	return of.ProviderResolutionDetail{
		ResolutionError: of.NewTypeMismatchResolutionError("revealed experiments have string variants, not " + kind),
		Reason:          of.ErrorReason,
	}
}

// BooleanEvaluation answers TYPE_MISMATCH with the default.
func (p *Provider) BooleanEvaluation(_ context.Context, _ string, defaultValue bool, _ of.FlattenedContext) of.BoolResolutionDetail {
	return of.BoolResolutionDetail{Value: defaultValue, ProviderResolutionDetail: mismatch("booleans")}
}

// FloatEvaluation answers TYPE_MISMATCH with the default.
func (p *Provider) FloatEvaluation(_ context.Context, _ string, defaultValue float64, _ of.FlattenedContext) of.FloatResolutionDetail {
	return of.FloatResolutionDetail{Value: defaultValue, ProviderResolutionDetail: mismatch("floats")}
}

// IntEvaluation answers TYPE_MISMATCH with the default.
func (p *Provider) IntEvaluation(_ context.Context, _ string, defaultValue int64, _ of.FlattenedContext) of.IntResolutionDetail {
	return of.IntResolutionDetail{Value: defaultValue, ProviderResolutionDetail: mismatch("integers")}
}

// ObjectEvaluation answers TYPE_MISMATCH with the default.
func (p *Provider) ObjectEvaluation(_ context.Context, _ string, defaultValue any, _ of.FlattenedContext) of.InterfaceResolutionDetail {
	return of.InterfaceResolutionDetail{Value: defaultValue, ProviderResolutionDetail: mismatch("objects")}
}

// Track records an outcome: the targeting key is the unit, the event name
// the metric, details.Value() the value. Without a targeting key the SDK
// drops the event and counts it in Stats.
func (p *Provider) Track(ctx context.Context, eventName string, evalCtx of.EvaluationContext, details of.TrackingEventDetails) {
	if p == nil || p.client == nil {
		return
	}
	p.client.Track(ctx, evalCtx.TargetingKey(), eventName, details.Value())
}
