package rules

import (
	"os"
	"path/filepath"
	"strings"
)

// change is what a watch saw happen to the config file.
type change uint8

const (
	// changeWriting: the file is being written in place (or was created to be):
	// what it holds may be half a configuration.
	changeWriting change = iota + 1
	// changeWritten: a writer closed the file after writing it.
	changeWritten
	// changeReplaced: the file, or a symlink on the way to it, was renamed over,
	// swapped, created as a link or removed: complete at once.
	changeReplaced
)

// fileWatch reports the changes of one config path: the file it resolves to, and
// the directory entries on the way — each symlink followed and the file's own
// name — but not their neighbours, so that a busy log file beside the config
// neither wakes nor delays it.
type fileWatch interface {
	Changes() <-chan change
	Errors() <-chan error
	// closeReported says whether changeWritten is reported: without it, the end
	// of an in-place write is guessed from a quiet period after changeWriting.
	closeReported() bool
	// rewatch follows the path again, after a swap.
	rewatch()
	Close() error
}

// watchTargets resolves path as the kernel does and returns, for each directory
// on the way, the names in it whose change can change what path reads (each
// symlink met and the final name), and the file it ends at.
func watchTargets(path string) (names map[string]map[string]bool, file string) {
	names = map[string]map[string]bool{}
	add := func(dir, name string) {
		if names[dir] == nil {
			names[dir] = map[string]bool{}
		}
		names[dir][name] = true
	}
	todo := strings.Split(filepath.Clean(path), string(filepath.Separator))
	cur := string(filepath.Separator)
	for hops := 0; len(todo) > 0 && hops < 40; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			if len(todo) == 0 {
				add(cur, c)
			}
			cur = next
			continue
		}
		hops++
		add(cur, c)
		target, err := os.Readlink(next)
		if err != nil {
			return names, next
		}
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		todo = append(strings.Split(target, string(filepath.Separator)), todo...)
	}
	return names, cur
}
