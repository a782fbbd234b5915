package rules

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifyWatch is the Linux fileWatch: inotify reports when a writer closes the
// file (IN_CLOSE_WRITE), so an in-place write is loaded once it is complete,
// however long the writer pauses, and never while the file is still open.
type inotifyWatch struct {
	path string
	fd   int      // the inotify instance, for adding and removing watches
	f    *os.File // the same, read through the runtime's poller (Close ends a read)

	mu   sync.Mutex
	dirs map[int]watchedDir // by watch
	file int                // the watch of the file itself; -1 = none

	changes chan change
	errs    chan error
	done    chan struct{}
}

const (
	dirMask  = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_CLOSE_WRITE | unix.IN_ONLYDIR
	fileMask = unix.IN_CLOSE_WRITE // written through another path (a bind mount); the rest the directories report
)

// watchedDir is a watched directory and the names that matter in it.
type watchedDir struct {
	path  string
	names map[string]bool
}

func newFileWatch(path string) (fileWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &inotifyWatch{
		path: path, fd: fd, f: os.NewFile(uintptr(fd), "inotify"),
		dirs: map[int]watchedDir{}, file: -1,
		changes: make(chan change, 16), errs: make(chan error, 1), done: make(chan struct{}),
	}
	w.rewatch()
	w.mu.Lock()
	n := len(w.dirs)
	w.mu.Unlock()
	if n == 0 {
		w.f.Close()
		return nil, fmt.Errorf("watch %s: no directory on its way can be watched", path)
	}
	go w.read()
	return w, nil
}

func (w *inotifyWatch) Changes() <-chan change { return w.changes }
func (w *inotifyWatch) Errors() <-chan error   { return w.errs }
func (w *inotifyWatch) closeReported() bool    { return true }

func (w *inotifyWatch) Close() error {
	err := w.f.Close() // ends the pending read
	<-w.done
	return err
}

// rewatch watches the directories and the file the path resolves to now, and
// drops the watches of what it no longer goes through.
func (w *inotifyWatch) rewatch() {
	names, file := watchTargets(w.path)
	fd := w.fd
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := map[int]bool{}
	dirs := map[int]watchedDir{}
	for dir, ns := range names {
		wd, err := unix.InotifyAddWatch(fd, dir, dirMask)
		if err != nil {
			continue // not there (yet): the directory above reports its creation
		}
		d, ok := dirs[wd]
		if !ok {
			d = watchedDir{path: dir, names: map[string]bool{}}
			dirs[wd] = d
		}
		for n := range ns {
			d.names[n] = true
		}
		keep[wd] = true
	}
	fileWD := -1
	if wd, err := unix.InotifyAddWatch(fd, file, fileMask); err == nil && !keep[wd] {
		fileWD, keep[wd] = wd, true
	}
	for wd := range w.dirs {
		if !keep[wd] {
			unix.InotifyRmWatch(fd, uint32(wd))
		}
	}
	if w.file >= 0 && !keep[w.file] {
		unix.InotifyRmWatch(fd, uint32(w.file))
	}
	w.dirs, w.file = dirs, fileWD
}

func (w *inotifyWatch) read() {
	defer close(w.done)
	defer close(w.changes)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
				select {
				case w.errs <- err:
				default:
				}
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				raw := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				for i, c := range raw {
					if c == 0 {
						raw = raw[:i]
						break
					}
				}
				name = string(raw)
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if c := w.classify(int(ev.Wd), ev.Mask, name); c != 0 {
				w.changes <- c
			}
		}
	}
}

// classify turns one inotify event into a change of the config, 0 when it is
// about something else.
func (w *inotifyWatch) classify(wd int, mask uint32, name string) change {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		return changeReplaced // events were lost: look again
	}
	w.mu.Lock()
	d, isDir := w.dirs[wd]
	isFile := wd == w.file
	w.mu.Unlock()
	switch {
	case isDir && d.names[name]:
		switch {
		case mask&unix.IN_CLOSE_WRITE != 0:
			return changeWritten
		case mask&unix.IN_CREATE != 0:
			// A new regular file is being written; a new symlink is complete.
			if fi, err := os.Lstat(filepath.Join(d.path, name)); err == nil && fi.Mode().IsRegular() {
				return changeWriting
			}
			return changeReplaced
		case mask&(unix.IN_MOVED_TO|unix.IN_MOVED_FROM|unix.IN_DELETE) != 0:
			return changeReplaced
		}
	case isFile && mask&unix.IN_CLOSE_WRITE != 0:
		return changeWritten
	}
	return 0
}
