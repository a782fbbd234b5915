package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// shells are the shells `parity completion` writes a script for.
var shells = map[string]func(io.Writer, []cmdSpec){
	"bash": writeBashCompletion,
	"zsh":  writeZshCompletion,
	"fish": writeFishCompletion,
}

// runCompletion prints the completion script of a shell, made from the command
// table and each command's own flags.
func runCompletion(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlags("completion", "bash|zsh|fish")
	pos, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || shells[pos[0]] == nil {
		return c.usagef("completion: want one shell: bash, zsh or fish")
	}
	shells[pos[0]](c.stdout, commandSpecs(ctx))
	return exitOK
}

// cmdSpec is what completion knows of a command: its name, summary, words that
// may follow it, and its flags.
type cmdSpec struct {
	name, summary string
	words         []string
	flags         []flagSpec
}

type flagSpec struct {
	name, usage string
	value       bool // takes a value (not a boolean switch)
}

// commandWords are the fixed words a command takes as its first argument.
func commandWords(name string) []string {
	switch name {
	case "plan", "config":
		return []string{"check"}
	case "completion":
		return []string{"bash", "fish", "zsh"}
	case "rollout":
		return []string{"status", "pause", "resume", "promote", "abort", "run"}
	case "help":
		var names []string
		for _, cmd := range commands {
			if cmd.name != "help" {
				names = append(names, cmd.name)
			}
		}
		return names
	}
	return nil
}

// commandSpecs reads every command's flags by asking it for -h with its output
// discarded: each command declares its flags in one place, its run function.
func commandSpecs(ctx context.Context) []cmdSpec {
	var specs []cmdSpec
	for _, cmd := range commands {
		var sets []*flag.FlagSet
		probe := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" },
			onFlags: func(fs *flag.FlagSet) { sets = append(sets, fs) }}
		if cmd.name != "help" {
			cmd.run(ctx, probe, []string{"-h"})
		}
		spec := cmdSpec{name: cmd.name, summary: cmd.summary, words: commandWords(cmd.name)}
		for _, fs := range sets {
			fs.VisitAll(func(f *flag.Flag) {
				_, usage := flag.UnquoteUsage(f)
				bf, isBool := f.Value.(interface{ IsBoolFlag() bool })
				spec.flags = append(spec.flags, flagSpec{name: f.Name, usage: firstClause(usage), value: !isBool || !bf.IsBoolFlag()})
			})
		}
		specs = append(specs, spec)
	}
	return specs
}

// firstClause is a flag's usage up to its first ";", for a one-line hint.
func firstClause(s string) string {
	if i := strings.IndexByte(s, ';'); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}

// dashed is the flag as the README writes it: -o, --format.
func (f flagSpec) dashed() string {
	if len(f.name) == 1 {
		return "-" + f.name
	}
	return "--" + f.name
}

func flagWords(cs cmdSpec) []string {
	out := make([]string, 0, len(cs.flags))
	for _, f := range cs.flags {
		out = append(out, f.dashed())
	}
	return out
}

func writeBashCompletion(w io.Writer, specs []cmdSpec) {
	var names []string
	for _, cs := range specs {
		names = append(names, cs.name)
	}
	fmt.Fprintf(w, `# bash completion for parity: source <(parity completion bash)
_parity() {
  local cur prev flags valued words
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case "${COMP_WORDS[1]}" in
`, strings.Join(names, " "))
	for _, cs := range specs {
		var valued []string
		for _, f := range cs.flags {
			switch {
			case f.value && len(f.name) == 1:
				valued = append(valued, "-"+f.name)
			case f.value:
				valued = append(valued, "--"+f.name, "-"+f.name)
			}
		}
		fmt.Fprintf(w, "    %s) flags=%q; valued=%q; words=%q ;;\n", cs.name,
			strings.Join(flagWords(cs), " "), " "+strings.Join(valued, " ")+" ", strings.Join(cs.words, " "))
	}
	fmt.Fprint(w, `    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ $valued == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $COMP_CWORD -eq 2 && -n $words ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _parity parity
`)
}

// zshQuote makes s safe inside a single-quoted _arguments spec or _describe
// item: brackets and colons escaped, single quotes closed and reopened.
func zshQuote(s string) string {
	r := strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`)
	return r.Replace(s)
}

func writeZshCompletion(w io.Writer, specs []cmdSpec) {
	fmt.Fprint(w, "#compdef parity\n# zsh completion for parity: parity completion zsh > \"${fpath[1]}/_parity\"\n_parity() {\n  local -a commands\n  commands=(\n")
	for _, cs := range specs {
		fmt.Fprintf(w, "    '%s:%s'\n", cs.name, zshQuote(cs.summary))
	}
	fmt.Fprint(w, "  )\n  if (( CURRENT == 2 )); then\n    _describe -t commands 'parity command' commands\n    return\n  fi\n  case $words[2] in\n")
	for _, cs := range specs {
		fmt.Fprintf(w, "    %s)\n      _arguments -s \\\n", cs.name)
		for _, f := range cs.flags {
			spec := fmt.Sprintf("%s[%s]", f.dashed(), zshQuote(f.usage))
			if f.value {
				spec += ":" + f.name + ":_files"
			}
			fmt.Fprintf(w, "        '%s' \\\n", spec)
		}
		if len(cs.words) > 0 {
			fmt.Fprintf(w, "        '1:argument:(%s)' \\\n", strings.Join(cs.words, " "))
		}
		fmt.Fprint(w, "        '*:file:_files' ;;\n")
	}
	fmt.Fprint(w, "  esac\n}\nif [[ $funcstack[1] == _parity ]]; then _parity \"$@\"; else compdef _parity parity; fi\n")
}

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFishCompletion(w io.Writer, specs []cmdSpec) {
	fmt.Fprint(w, "# fish completion for parity: parity completion fish > ~/.config/fish/completions/parity.fish\n")
	fmt.Fprint(w, "complete -c parity -f\n")
	for _, cs := range specs {
		fmt.Fprintf(w, "complete -c parity -n '__fish_use_subcommand' -a %s -d %s\n", cs.name, fishQuote(cs.summary))
	}
	for _, cs := range specs {
		cond := fishQuote("__fish_seen_subcommand_from " + cs.name)
		if len(cs.words) > 0 {
			fmt.Fprintf(w, "complete -c parity -n %s -a %s\n", cond, fishQuote(strings.Join(cs.words, " ")))
		}
		for _, f := range cs.flags {
			opt := ""
			if f.value {
				opt = " -r -F"
			}
			kind := "-l"
			if len(f.name) == 1 {
				kind = "-s"
			}
			fmt.Fprintf(w, "complete -c parity -n %s %s %s%s -d %s\n", cond, kind, f.name, opt, fishQuote(f.usage))
		}
		if !slices.Contains([]string{"version", "completion", "help", "plan", "config"}, cs.name) {
			fmt.Fprintf(w, "complete -c parity -n %s -F\n", cond)
		}
	}
}
