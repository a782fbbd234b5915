//go:build !linux

package rules

import (
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// fsnotifyWatch is the fileWatch where the kernel does not report a writer
// closing the file: an in-place write is loaded after a quiet period.
type fsnotifyWatch struct {
	path    string
	w       *fsnotify.Watcher
	mu      sync.Mutex
	names   map[string]map[string]bool
	changes chan change
	done    chan struct{}
}

func newFileWatch(path string) (fileWatch, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &fsnotifyWatch{path: path, w: fw, names: map[string]map[string]bool{},
		changes: make(chan change, 16), done: make(chan struct{})}
	w.rewatch()
	go w.read()
	return w, nil
}

func (w *fsnotifyWatch) Changes() <-chan change { return w.changes }
func (w *fsnotifyWatch) Errors() <-chan error   { return w.w.Errors }
func (w *fsnotifyWatch) closeReported() bool    { return false }

func (w *fsnotifyWatch) Close() error {
	err := w.w.Close()
	<-w.done
	return err
}

func (w *fsnotifyWatch) rewatch() {
	names, _ := watchTargets(w.path)
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.names {
		if names[d] == nil {
			w.w.Remove(d) // the directory may be gone already
		}
	}
	for d := range names {
		if w.names[d] == nil {
			w.w.Add(d)
		}
	}
	w.names = names
}

func (w *fsnotifyWatch) read() {
	defer close(w.done)
	defer close(w.changes)
	for ev := range w.w.Events {
		w.mu.Lock()
		relevant := w.names[filepath.Dir(ev.Name)][filepath.Base(ev.Name)]
		w.mu.Unlock()
		switch {
		case !relevant:
		case ev.Has(fsnotify.Write) || ev.Has(fsnotify.Create) || ev.Has(fsnotify.Chmod):
			w.changes <- changeWriting
		default:
			w.changes <- changeReplaced
		}
	}
}
