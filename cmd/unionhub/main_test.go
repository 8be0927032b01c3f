package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestEveryCommandHasHelp asks every command and subcommand for help with
// -h and --help: the usage goes to stdout and the exit status is 0, even
// with a configuration that would stop every real command.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	broken := func(k string) string {
		if k == "UNIONHUB_LOG_LEVEL" {
			return "loud"
		}
		return ""
	}
	tests := []struct {
		args []string
		want string // a synopsis line the usage must show
	}{
		{[]string{"serve"}, "unionhub serve "},
		{[]string{"migrate"}, "unionhub migrate "},
		{[]string{"org"}, "unionhub org import FILE"},
		{[]string{"org", "import"}, "unionhub org import FILE"},
		{[]string{"org", "import", "tree.yaml"}, "unionhub org import FILE"},
		{[]string{"org", "list"}, "unionhub org list"},
		{[]string{"invite"}, "unionhub invite ORG --role ROLE"},
		{[]string{"invite", "edu", "--role", "member"}, "--expires  lifetime"},
		{[]string{"invite", "list"}, "unionhub invite list ORG"},
		{[]string{"invite", "revoke"}, "unionhub invite revoke CODE"},
		{[]string{"report"}, "unionhub report hotline --org CODE"},
		{[]string{"report", "hotline"}, "unionhub report hotline --org CODE"},
		{[]string{"report", "broadcast"}, "unionhub report broadcast ID"},
		{[]string{"report", "broadcast", "42"}, "unionhub report broadcast ID"},
		{[]string{"report", "action"}, "unionhub report action ID"},
		{[]string{"report", "monitoring"}, "unionhub report monitoring --org CODE"},
		{[]string{"survey"}, "unionhub survey list"},
		{[]string{"survey", "list"}, "unionhub survey list"},
		{[]string{"survey", "run"}, "unionhub survey run ID"},
		{[]string{"survey", "status"}, "unionhub survey status ID"},
		{[]string{"jobs"}, "unionhub jobs "},
		{[]string{"target"}, "unionhub target set --org CODE"},
		{[]string{"target", "set"}, "unionhub target set --org CODE"},
		{[]string{"target", "list"}, "unionhub target list --period"},
		{[]string{"export"}, "unionhub export contacts --org CODE"},
		{[]string{"export", "contacts"}, "unionhub export contacts --org CODE"},
		{[]string{"config"}, "unionhub config "},
		{[]string{"healthcheck"}, "unionhub healthcheck "},
	}
	for _, tt := range tests {
		for _, flag := range []string{"--help", "-h", "-help"} {
			args := append(append([]string(nil), tt.args...), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				var out, errOut bytes.Buffer
				code := run(context.Background(), args, broken, &out, &errOut, time.Now)
				if code != exitOK {
					t.Errorf("exit %d, want 0; stderr:\n%s", code, errOut.String())
				}
				if !strings.HasPrefix(out.String(), "Usage:") || !strings.Contains(out.String(), tt.want) {
					t.Errorf("stdout does not show %q:\n%s", tt.want, out.String())
				}
				if errOut.Len() != 0 {
					t.Errorf("stderr is not empty:\n%s", errOut.String())
				}
			})
		}
	}
}

// "help CMD" is "CMD --help".
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"help", c.name}, func(string) string { return "" }, &out, &errOut, time.Now)
		if code != exitOK || out.String() != commandUsage(c) || errOut.Len() != 0 {
			t.Errorf("help %s: exit %d, stdout:\n%s\nstderr:\n%s", c.name, code, out.String(), errOut.String())
		}
	}
}

func TestTopLevelUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args           []string
		code           int
		stdout, stderr bool // where the full usage goes
	}{
		{nil, exitUsage, false, true},
		{[]string{"help"}, exitOK, true, false},
		{[]string{"--help"}, exitOK, true, false},
		{[]string{"-h"}, exitOK, true, false},
		{[]string{"frobnicate", "--help"}, exitUsage, false, true},
		{[]string{"help", "frobnicate"}, exitUsage, false, true},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut, time.Now)
		if code != tt.code {
			t.Errorf("%q: exit %d, want %d", tt.args, code, tt.code)
		}
		for _, c := range commands {
			if strings.Contains(out.String(), c.synopsis) != tt.stdout || strings.Contains(errOut.String(), c.synopsis) != tt.stderr {
				t.Errorf("%q: synopsis of %s on stdout %v, stderr %v; want %v, %v", tt.args, c.name,
					strings.Contains(out.String(), c.synopsis), strings.Contains(errOut.String(), c.synopsis), tt.stdout, tt.stderr)
			}
		}
	}
}
