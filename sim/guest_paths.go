package main

// Guest paths as the guest sees them (guest_ops.go, guest_files.go): a VM's
// file system is its folder GUESTROOT/NAME/ bound as /, with the host's /usr
// read-only. Every guest operation resolves its path here, as the guest's
// kernel would inside that root: ".." of / is /, and a symbolic link (one a
// guest program made, e.g. /tmp/x -> /etc) resolves inside the guest's root,
// never on the lab's host. A path that still ends outside the folder (or
// /usr) is refused (GuestPermissionDenied): nothing a client sends reaches
// the lab's own files.

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// maxLinkHops is the kernel's limit of symbolic links in one lookup (ELOOP).
const maxLinkHops = 40

// guestPath is one resolved guest path.
type guestPath struct {
	guest    string // the absolute guest path, links resolved
	host     string // where it is on the lab's host
	readOnly bool   // under /usr (the host's, bound read-only)
}

// errLinkLoop is too many symbolic links in a lookup.
type errLinkLoop struct{ path string }

func (e errLinkLoop) Error() string { return e.path + ": too many levels of symbolic links" }

// resolveGuest resolves guest path p in the guest folder vmDir. followLast:
// a link in the last component is followed (false: the link itself, as
// for deleting or moving it).
func resolveGuest(vmDir, p string, followLast bool) (guestPath, error) {
	rest := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	cur := "/"
	for hops := 0; len(rest) > 0; {
		comp := rest[0]
		rest = rest[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, comp)
		if next == "/usr" || strings.HasPrefix(next, "/usr/") {
			return usrPath(path.Join(append([]string{next}, rest...)...))
		}
		if len(rest) == 0 && !followLast {
			cur = next
			break
		}
		fi, err := os.Lstat(filepath.Join(vmDir, filepath.FromSlash(next)))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return guestPath{}, errLinkLoop{p}
		}
		target, err := os.Readlink(filepath.Join(vmDir, filepath.FromSlash(next)))
		if err != nil {
			cur = next
			continue
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
	}
	host := filepath.Join(vmDir, filepath.FromSlash(cur))
	if !within(vmDir, host) {
		return guestPath{}, os.ErrPermission
	}
	return guestPath{guest: cur, host: host}, nil
}

// usrPath is a guest path under /usr: the host's own, read-only. Links
// there are the host's (the sandbox binds /usr as it is).
func usrPath(p string) (guestPath, error) {
	host := filepath.Clean(filepath.FromSlash(p))
	if !within("/usr", host) {
		return guestPath{}, os.ErrPermission
	}
	return guestPath{guest: p, host: host, readOnly: true}, nil
}

// within tells whether host path p is dir or inside it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// writablePath is the host path of guest path p for a change (a file
// written, made, moved or deleted): GuestPermissionDenied under /usr (the
// host's, read-only in the guest) or outside the guest.
func writablePath(vmDir, p string) (string, *soap.Fault) {
	return writableAt(vmDir, p, true)
}

// writableAt is writablePath; followLast false changes a link itself.
func writableAt(vmDir, p string, followLast bool) (string, *soap.Fault) {
	gp, err := resolveGuest(vmDir, p, followLast)
	switch {
	case err != nil:
		return "", guestPathFault(p, err)
	case gp.readOnly:
		return "", guestFault("Permission denied: "+p+" is on a read-only file system",
			&types.GuestPermissionDenied{})
	}
	return gp.host, nil
}

// guestPathFault is the fault for a path that cannot be resolved in the guest.
func guestPathFault(p string, err error) *soap.Fault {
	if loop, ok := err.(errLinkLoop); ok {
		return guestFault(loop.Error(), &types.FileFault{File: p})
	}
	return guestFault("Permission denied: "+p, &types.GuestPermissionDenied{})
}
