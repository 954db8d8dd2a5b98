package main

// What GuestProcessManager answers beyond starting and killing programs
// (guest_ops.go):
//
//   - ListProcessesInGuest: a program that ended has endTime and exitCode,
//     0 included. govmomi's GuestProcessInfo.exitCode is `omitempty`, so the
//     stock encoding dropped a 0 and a client saw a finished program without
//     an exit code (Ansible's vmware_vm_shell then waits its whole timeout
//     for exitCode to be set); a running program has neither.
//   - ReadEnvironmentVariableInGuest: the guest user's environment, as
//     NAME=value strings: the names asked (unknown ones are left out), all
//     of it when none is asked.

import (
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// processInfo is vim.vm.guest.ProcessManager.ProcessInfo as vSphere sends
// it: exitCode present once the program ended, whatever its value.
type processInfo struct {
	Name      string     `xml:"name"`
	Pid       int64      `xml:"pid"`
	Owner     string     `xml:"owner"`
	CmdLine   string     `xml:"cmdLine"`
	StartTime time.Time  `xml:"startTime"`
	EndTime   *time.Time `xml:"endTime,omitempty"`
	ExitCode  *int32     `xml:"exitCode,omitempty"`
}

// ListProcessesInGuestResponse is the answer's element (its Go type name
// names the element in the simulator's encoding).
type ListProcessesInGuestResponse struct {
	Returnval []processInfo `xml:"returnval,omitempty"`
}

type listProcessesBody struct {
	Res    *ListProcessesInGuestResponse `xml:"ListProcessesInGuestResponse,omitempty"`
	Fault_ *soap.Fault                   `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *listProcessesBody) Fault() *soap.Fault { return b.Fault_ }

// wire is p as ListProcessesInGuest reports it (the caller holds the
// guestOps lock).
func (p *guestProc) wire() processInfo {
	out := processInfo{Name: p.info.Name, Pid: p.info.Pid, Owner: p.info.Owner, CmdLine: p.info.CmdLine,
		StartTime: p.info.StartTime}
	if p.info.EndTime != nil {
		end := *p.info.EndTime
		out.EndTime = &end
	}
	if p.exited {
		code := p.info.ExitCode
		out.ExitCode = &code
	}
	return out
}

func (m *labGuestProcessManager) ReadEnvironmentVariableInGuest(ctx *simulator.Context, req *types.ReadEnvironmentVariableInGuest) soap.HasFault {
	body := new(methods.ReadEnvironmentVariableInGuestBody)
	if _, _, fault := m.ops.prepare(req.Vm, req.Auth); fault != nil {
		body.Fault_ = fault
		return body
	}
	env := guestEnv(nil) // guest_boot.go
	out := env
	if len(req.Names) != 0 {
		out = nil
		for _, name := range req.Names {
			for _, kv := range env {
				if strings.HasPrefix(kv, name+"=") {
					out = append(out, kv)
				}
			}
		}
	}
	body.Res = &types.ReadEnvironmentVariableInGuestResponse{Returnval: out}
	return body
}
