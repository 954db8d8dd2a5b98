package main

// The rest of vSphere's GuestFileManager (API reference, vim.vm.guest.
// FileManager, vSphere API 5.0+), on the lab's guest file systems
// (guest_ops.go) with guest paths resolved as the guest would
// (guest_paths.go): govc guest.mkdir/rm/rmdir/mv/ls/mktemp/chmod and
// Ansible's vmware_guest_file_operation and vmware_tools connection use
// these. Each checks what every guest operation checks first (powered on,
// Tools and the guest agent up, the guest credentials), then:
//
//   - paths are absolute ("The complete path"), else InvalidArgument;
//   - MakeDirectoryInGuest: FileAlreadyExists when the path exists,
//     FileNotFound for a missing parent unless createParentDirectories;
//   - DeleteFileInGuest: a file or symbolic link (NotAFile for a
//     directory); DeleteDirectoryInGuest: a directory (NotADirectory),
//     DirectoryNotEmpty unless recursive;
//   - MoveFileInGuest: NotAFile for a directory source, FileAlreadyExists
//     for an existing destination unless overwrite, NotAFile for a
//     directory destination; MoveDirectoryInGuest: NotADirectory for a
//     file source, FileAlreadyExists for any existing destination;
//   - CreateTemporaryFileInGuest / CreateTemporaryDirectoryInGuest:
//     PREFIX + random + SUFFIX in directoryPath, else /tmp, its path
//     returned; FileNotFound for a missing directory;
//   - ListFilesInGuest: a directory's entries (not . and ..) or the file
//     itself, by name, matching matchPattern (a regular expression on the
//     name, '.*' when unset; InvalidArgument when it does not compile),
//     from index, at most maxResults (50 when unset), with remaining;
//   - ChangeFileAttributesInGuest: POSIX permissions, owner, group and
//     times; an unset attribute is unchanged; GuestWindowsFileAttributes
//     (hidden, readOnly) on the lab's Linux guests is InvalidArgument
//     (fileAttributes);
//   - anything under /usr (the host's, read-only in the guest) cannot be
//     changed: GuestPermissionDenied.
//
// A missing path is FileNotFound (FileFault.file: the guest path).

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// listFilesDefault is ListFilesInGuest's maxResults when unset.
const listFilesDefault = 50

// fileOp checks a guest file operation's VM and credentials and that p is
// absolute; it returns the VM's guest folder.
func (m *labGuestFileManager) fileOp(vm types.ManagedObjectReference, auth types.BaseGuestAuthentication,
	arg string, paths ...string) (string, *soap.Fault) {
	_, name, fault := m.ops.prepare(vm, auth)
	if fault != nil {
		return "", fault
	}
	for _, p := range paths {
		if !path.IsAbs(p) {
			return "", guestFault("A specified parameter was not correct: "+arg+" (the complete path is needed: "+p+")",
				&types.InvalidArgument{InvalidProperty: arg})
		}
	}
	dir, err := m.ops.vmDir(name)
	if err != nil {
		return "", guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
	}
	return dir, nil
}

func fileNotFound(p string) *soap.Fault {
	return guestFault("File "+p+" was not found", &types.FileNotFound{FileFault: types.FileFault{File: p}})
}

func fileExists(p string) *soap.Fault {
	return guestFault("File "+p+" already exists", &types.FileAlreadyExists{FileFault: types.FileFault{File: p}})
}

func notAFile(p string) *soap.Fault {
	return guestFault(p+" is not a file", &types.NotAFile{FileFault: types.FileFault{File: p}})
}

func notADirectory(p string) *soap.Fault {
	return guestFault(p+" is not a directory", &types.NotADirectory{FileFault: types.FileFault{File: p}})
}

// ioFault turns a host error on guest path p into the guest's fault.
func ioFault(p string, err error) *soap.Fault {
	switch {
	case os.IsNotExist(err):
		return fileNotFound(p)
	case os.IsExist(err):
		return fileExists(p)
	case os.IsPermission(err):
		return guestFault("Permission denied: "+p, &types.GuestPermissionDenied{})
	}
	return guestFault(err.Error(), &types.FileFault{File: p})
}

func (m *labGuestFileManager) MakeDirectoryInGuest(ctx *simulator.Context, req *types.MakeDirectoryInGuest) soap.HasFault {
	body := new(methods.MakeDirectoryInGuestBody)
	body.Fault_ = m.makeDirectory(req)
	if body.Fault_ == nil {
		body.Res = &types.MakeDirectoryInGuestResponse{}
	}
	return body
}

func (m *labGuestFileManager) makeDirectory(req *types.MakeDirectoryInGuest) *soap.Fault {
	dir, fault := m.fileOp(req.Vm, req.Auth, "directoryPath", req.DirectoryPath)
	if fault != nil {
		return fault
	}
	host, fault := writablePath(dir, req.DirectoryPath)
	if fault != nil {
		return fault
	}
	if _, err := os.Lstat(host); err == nil {
		return fileExists(req.DirectoryPath)
	}
	if !req.CreateParentDirectories {
		if fi, err := os.Stat(filepath.Dir(host)); err != nil || !fi.IsDir() {
			return fileNotFound(path.Dir(path.Clean(req.DirectoryPath)))
		}
		if err := os.Mkdir(host, 0755); err != nil {
			return ioFault(req.DirectoryPath, err)
		}
		return nil
	}
	if err := os.MkdirAll(host, 0755); err != nil {
		return ioFault(req.DirectoryPath, err)
	}
	return nil
}

func (m *labGuestFileManager) DeleteFileInGuest(ctx *simulator.Context, req *types.DeleteFileInGuest) soap.HasFault {
	body := new(methods.DeleteFileInGuestBody)
	body.Fault_ = m.deleteFile(req)
	if body.Fault_ == nil {
		body.Res = &types.DeleteFileInGuestResponse{}
	}
	return body
}

func (m *labGuestFileManager) deleteFile(req *types.DeleteFileInGuest) *soap.Fault {
	dir, fault := m.fileOp(req.Vm, req.Auth, "filePath", req.FilePath)
	if fault != nil {
		return fault
	}
	host, fault := writableAt(dir, req.FilePath, false) // a link goes, not its target
	if fault != nil {
		return fault
	}
	fi, err := os.Lstat(host)
	switch {
	case err != nil:
		return fileNotFound(req.FilePath)
	case fi.IsDir():
		return notAFile(req.FilePath)
	}
	if err := os.Remove(host); err != nil {
		return ioFault(req.FilePath, err)
	}
	return nil
}

func (m *labGuestFileManager) DeleteDirectoryInGuest(ctx *simulator.Context, req *types.DeleteDirectoryInGuest) soap.HasFault {
	body := new(methods.DeleteDirectoryInGuestBody)
	body.Fault_ = m.deleteDirectory(req)
	if body.Fault_ == nil {
		body.Res = &types.DeleteDirectoryInGuestResponse{}
	}
	return body
}

func (m *labGuestFileManager) deleteDirectory(req *types.DeleteDirectoryInGuest) *soap.Fault {
	dir, fault := m.fileOp(req.Vm, req.Auth, "directoryPath", req.DirectoryPath)
	if fault != nil {
		return fault
	}
	host, fault := writableAt(dir, req.DirectoryPath, false)
	if fault != nil {
		return fault
	}
	fi, err := os.Lstat(host)
	switch {
	case err != nil:
		return fileNotFound(req.DirectoryPath)
	case !fi.IsDir():
		return notADirectory(req.DirectoryPath)
	case host == dir:
		return guestFault("Permission denied: /", &types.GuestPermissionDenied{})
	}
	if req.Recursive {
		err = os.RemoveAll(host) // does not follow links: a link inside goes, not its target
	} else if err = os.Remove(host); err != nil && !os.IsNotExist(err) {
		if entries, rerr := os.ReadDir(host); rerr == nil && len(entries) > 0 {
			return guestFault("Directory "+req.DirectoryPath+" is not empty",
				&types.DirectoryNotEmpty{FileFault: types.FileFault{File: req.DirectoryPath}})
		}
	}
	if err != nil {
		return ioFault(req.DirectoryPath, err)
	}
	return nil
}

func (m *labGuestFileManager) MoveFileInGuest(ctx *simulator.Context, req *types.MoveFileInGuest) soap.HasFault {
	body := new(methods.MoveFileInGuestBody)
	body.Fault_ = m.move(req.Vm, req.Auth, req.SrcFilePath, req.DstFilePath, req.Overwrite, false)
	if body.Fault_ == nil {
		body.Res = &types.MoveFileInGuestResponse{}
	}
	return body
}

func (m *labGuestFileManager) MoveDirectoryInGuest(ctx *simulator.Context, req *types.MoveDirectoryInGuest) soap.HasFault {
	body := new(methods.MoveDirectoryInGuestBody)
	body.Fault_ = m.move(req.Vm, req.Auth, req.SrcDirectoryPath, req.DstDirectoryPath, false, true)
	if body.Fault_ == nil {
		body.Res = &types.MoveDirectoryInGuestResponse{}
	}
	return body
}

// move renames a file (or link) or a directory in the guest.
func (m *labGuestFileManager) move(vm types.ManagedObjectReference, auth types.BaseGuestAuthentication,
	src, dst string, overwrite, directory bool) *soap.Fault {
	arg := "srcFilePath"
	if directory {
		arg = "srcDirectoryPath"
	}
	dir, fault := m.fileOp(vm, auth, arg, src, dst)
	if fault != nil {
		return fault
	}
	from, fault := writableAt(dir, src, false)
	if fault != nil {
		return fault
	}
	to, fault := writableAt(dir, dst, true)
	if fault != nil {
		return fault
	}
	fi, err := os.Lstat(from)
	switch {
	case err != nil:
		return fileNotFound(src)
	case directory && !fi.IsDir():
		return notADirectory(src)
	case !directory && fi.IsDir():
		return notAFile(src)
	case from == dir:
		return guestFault("Permission denied: /", &types.GuestPermissionDenied{})
	}
	if dfi, err := os.Stat(to); err == nil {
		switch {
		case directory || !overwrite:
			return fileExists(dst)
		case dfi.IsDir():
			return notAFile(dst)
		}
	}
	if fi, err := os.Stat(filepath.Dir(to)); err != nil || !fi.IsDir() {
		return fileNotFound(path.Dir(path.Clean(dst)))
	}
	if err := os.Rename(from, to); err != nil {
		return ioFault(src, err)
	}
	return nil
}

func (m *labGuestFileManager) CreateTemporaryFileInGuest(ctx *simulator.Context, req *types.CreateTemporaryFileInGuest) soap.HasFault {
	body := new(methods.CreateTemporaryFileInGuestBody)
	p, fault := m.temporary(req.Vm, req.Auth, req.Prefix, req.Suffix, req.DirectoryPath, false)
	if body.Fault_ = fault; fault == nil {
		body.Res = &types.CreateTemporaryFileInGuestResponse{Returnval: p}
	}
	return body
}

func (m *labGuestFileManager) CreateTemporaryDirectoryInGuest(ctx *simulator.Context, req *types.CreateTemporaryDirectoryInGuest) soap.HasFault {
	body := new(methods.CreateTemporaryDirectoryInGuestBody)
	p, fault := m.temporary(req.Vm, req.Auth, req.Prefix, req.Suffix, req.DirectoryPath, true)
	if body.Fault_ = fault; fault == nil {
		body.Res = &types.CreateTemporaryDirectoryInGuestResponse{Returnval: p}
	}
	return body
}

// temporary makes a new file or directory PREFIX<random>SUFFIX in
// directoryPath (the guest's /tmp when unset) and returns its guest path.
func (m *labGuestFileManager) temporary(vm types.ManagedObjectReference, auth types.BaseGuestAuthentication,
	prefix, suffix, in string, directory bool) (string, *soap.Fault) {
	if in == "" {
		in = "/tmp"
	}
	dir, fault := m.fileOp(vm, auth, "directoryPath", in)
	if fault != nil {
		return "", fault
	}
	parent, fault := writablePath(dir, in)
	if fault != nil {
		return "", fault
	}
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return "", fileNotFound(in)
	}
	gp, _ := resolveGuest(dir, in, true)
	for i := 0; i < 100; i++ {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		}
		name := prefix + hex.EncodeToString(b) + suffix
		host := filepath.Join(parent, name)
		var err error
		if directory {
			err = os.Mkdir(host, 0700)
		} else {
			var f *os.File
			if f, err = os.OpenFile(host, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0600); err == nil {
				err = f.Close()
			}
		}
		switch {
		case err == nil:
			return path.Join(gp.guest, name), nil
		case !os.IsExist(err):
			return "", ioFault(path.Join(in, name), err)
		}
	}
	return "", fileExists(in)
}

func (m *labGuestFileManager) ListFilesInGuest(ctx *simulator.Context, req *types.ListFilesInGuest) soap.HasFault {
	body := new(methods.ListFilesInGuestBody)
	info, fault := m.listFiles(req)
	if body.Fault_ = fault; fault == nil {
		body.Res = &types.ListFilesInGuestResponse{Returnval: *info}
	}
	return body
}

func (m *labGuestFileManager) listFiles(req *types.ListFilesInGuest) (*types.GuestListFileInfo, *soap.Fault) {
	dir, fault := m.fileOp(req.Vm, req.Auth, "filePath", req.FilePath)
	if fault != nil {
		return nil, fault
	}
	pattern := req.MatchPattern
	if pattern == "" {
		pattern = ".*"
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, guestFault("A specified parameter was not correct: matchPattern ("+err.Error()+")",
			&types.InvalidArgument{InvalidProperty: "matchPattern"})
	}
	gp, err := resolveGuest(dir, req.FilePath, true)
	if err != nil {
		return nil, guestPathFault(req.FilePath, err)
	}
	fi, err := os.Stat(gp.host)
	if err != nil {
		return nil, fileNotFound(req.FilePath)
	}
	var files []types.GuestFileInfo
	add := func(name, host string) {
		if !re.MatchString(name) {
			return
		}
		if info, ok := guestFileInfo(name, host); ok {
			files = append(files, info)
		}
	}
	if !fi.IsDir() {
		add(path.Base(gp.guest), gp.host)
	} else {
		entries, err := os.ReadDir(gp.host)
		if err != nil {
			return nil, ioFault(req.FilePath, err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			add(e.Name(), filepath.Join(gp.host, e.Name()))
		}
	}
	return pageFiles(files, req.Index, req.MaxResults), nil
}

// pageFiles is the batch of files from index, at most max (the default
// when 0), with how many remain after it.
func pageFiles(files []types.GuestFileInfo, index, max int32) *types.GuestListFileInfo {
	if max <= 0 {
		max = listFilesDefault
	}
	if index < 0 {
		index = 0
	}
	if int(index) > len(files) {
		index = int32(len(files))
	}
	end := int(index) + int(max)
	if end > len(files) {
		end = len(files)
	}
	return &types.GuestListFileInfo{Files: files[index:end], Remaining: int32(len(files) - end)}
}

// guestFileInfo describes one guest file (a link as a link: type symlink
// with its target).
func guestFileInfo(name, host string) (types.GuestFileInfo, bool) {
	fi, err := os.Lstat(host)
	if err != nil {
		return types.GuestFileInfo{}, false
	}
	mtime := fi.ModTime().UTC()
	attrs := &types.GuestPosixFileAttributes{
		GuestFileAttributes: types.GuestFileAttributes{ModificationTime: &mtime},
		Permissions:         int64(fi.Mode().Perm()),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		atime := time.Unix(st.Atim.Sec, st.Atim.Nsec).UTC()
		uid, gid := int32(st.Uid), int32(st.Gid)
		attrs.AccessTime, attrs.OwnerId, attrs.GroupId = &atime, &uid, &gid
	}
	kind := "file"
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		kind = "symlink"
		attrs.SymlinkTarget, _ = os.Readlink(host)
	case fi.IsDir():
		kind = "directory"
	}
	return types.GuestFileInfo{Path: name, Type: kind, Size: fi.Size(), Attributes: attrs}, true
}

func (m *labGuestFileManager) ChangeFileAttributesInGuest(ctx *simulator.Context, req *types.ChangeFileAttributesInGuest) soap.HasFault {
	body := new(methods.ChangeFileAttributesInGuestBody)
	body.Fault_ = m.changeAttributes(req)
	if body.Fault_ == nil {
		body.Res = &types.ChangeFileAttributesInGuestResponse{}
	}
	return body
}

func (m *labGuestFileManager) changeAttributes(req *types.ChangeFileAttributesInGuest) *soap.Fault {
	dir, fault := m.fileOp(req.Vm, req.Auth, "guestFilePath", req.GuestFilePath)
	if fault != nil {
		return fault
	}
	if _, ok := req.FileAttributes.(*types.GuestWindowsFileAttributes); ok {
		// The lab's guests are Linux: a Windows attribute set does not apply.
		return guestFault("A specified parameter was not correct: fileAttributes (Windows file attributes on a Linux guest)",
			&types.InvalidArgument{InvalidProperty: "fileAttributes"})
	}
	host, fault := writablePath(dir, req.GuestFilePath)
	if fault != nil {
		return fault
	}
	fi, err := os.Stat(host)
	if err != nil {
		return fileNotFound(req.GuestFilePath)
	}
	var base *types.GuestFileAttributes
	switch a := req.FileAttributes.(type) {
	case *types.GuestPosixFileAttributes:
		base = &a.GuestFileAttributes
		if a.Permissions != 0 {
			err = os.Chmod(host, os.FileMode(a.Permissions)&os.ModePerm)
		}
		if err == nil && (a.OwnerId != nil || a.GroupId != nil) {
			uid, gid := -1, -1
			if a.OwnerId != nil {
				uid = int(*a.OwnerId)
			}
			if a.GroupId != nil {
				gid = int(*a.GroupId)
			}
			err = os.Chown(host, uid, gid)
		}
	case *types.GuestFileAttributes:
		base = a
	}
	if err == nil && base != nil && (base.ModificationTime != nil || base.AccessTime != nil) {
		mtime, atime := fi.ModTime(), fi.ModTime()
		if base.ModificationTime != nil {
			mtime = *base.ModificationTime
		}
		if base.AccessTime != nil {
			atime = *base.AccessTime
		}
		err = os.Chtimes(host, atime, mtime)
	}
	if err != nil {
		return ioFault(req.GuestFilePath, err)
	}
	return nil
}
