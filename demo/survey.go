package demo

import (
	"context"
	"fmt"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// SurveySourceKey is the demo's source: the survey behind every demo claim
// (shared/research/survey.md).
const SurveySourceKey = "ignite80-front-2019"

// surveyStatements are the survey's five statements that the demo
// experiments test; human-74 and human-csat are each tested in two
// experiments (human-vs-bot and human-vs-wait), so the scoreboard pools
// them.
func surveyStatements() []analysis.Statement {
	return []analysis.Statement{
		{Key: "choice-58", Kind: analysis.ClaimShare, StatedShare: share(0.58), SurveyN: surveyN, Option: "several fixes to choose from",
			Text: "58% would rather be offered several solutions and choose than have the problem solved with one"},
		{Key: "human-74", Kind: analysis.ClaimShare, StatedShare: share(0.74), SurveyN: surveyN, Option: "a human",
			Text: "74% would rather wait 10 minutes for a human than 5 for a chatbot"},
		{Key: "human-csat", Kind: analysis.ClaimEffect, SurveyN: surveyN,
			Text: "Buyers prefer a human, so a human answer leaves them more satisfied"},
		{Key: "teach-61", Kind: analysis.ClaimShare, StatedShare: share(0.61), SurveyN: surveyN, Option: "being taught",
			Text: "61% would rather be taught to solve the problem themselves than have it solved for them"},
		{Key: "teach-genz-vs-boomers", Kind: analysis.ClaimSegmentGap, StatedA: share(0.76), StatedB: share(0.51), SurveyN: surveyN,
			Text: "Gen Z want to be taught far more than Baby Boomers do (76% vs 51%)"},
	}
}

// loadSurvey creates the source and its statements unless they exist.
func loadSurvey(ctx context.Context, svc *experiments.Service) error {
	_, err := svc.CreateSource(ctx, experiments.SourceInput{Key: SurveySourceKey,
		Title: "ignite80 × Front survey of 2,128 B2B buyers", Publisher: "ignite80 with Front", Year: 2019, N: surveyN})
	if err != nil && experiments.ErrorCode(err) != experiments.CodeConflict {
		return fmt.Errorf("creating source %s: %w", SurveySourceKey, err)
	}
	for _, st := range surveyStatements() {
		if _, err := svc.CreateStatement(ctx, SurveySourceKey, st); err != nil && experiments.ErrorCode(err) != experiments.CodeConflict {
			return fmt.Errorf("creating statement %s: %w", st.Key, err)
		}
	}
	return nil
}
