package main

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// There is no Docker engine to run docker-compose here, so this test keeps
// the deployment files honest instead: every REVEALED_* variable and every
// subcommand they use must be one the binary reads.
func TestDeploymentFilesUseKnownSettings(t *testing.T) {
	known := []string{envAdminKey}
	for _, s := range settings {
		known = append(known, s.env)
	}
	envVar := regexp.MustCompile(`\bREVEALED_[A-Z_]+\b`)
	command := regexp.MustCompile(`(?:command|CMD):? \["([a-z]+)"`)
	for _, file := range []string{"../../docker-compose.yml", "../../Dockerfile"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envVar.FindAllString(string(b), -1) {
			if !slices.Contains(known, name) {
				t.Errorf("%s uses %s, which revealed does not read (known: %v)", file, name, known)
			}
		}
		cmds := command.FindAllStringSubmatch(string(b), -1)
		if len(cmds) == 0 {
			t.Errorf("%s names no revealed command", file)
		}
		for _, m := range cmds {
			if !slices.Contains([]string{"serve", "migrate"}, m[1]) {
				t.Errorf("%s runs unknown command %q", file, m[1])
			}
		}
	}
}
