package main

// Sessions as vCenter ends them: an idle timeout (--session-ttl; vCenter's
// default is 30 minutes) and SessionManager.TerminateSession (an
// administrator's tool).
//
// The lab follows every session by its cookie (vmware_soap_session): made
// by a Login (or LoginByToken, CloneSession) answer's Set-Cookie, used by
// each call, ended by Logout, TerminateSession or the idle timeout. A
// session is idle from the end of its last call; a call in progress (a
// long WaitForUpdatesEx) keeps it alive. An ended session's cookie gets
// vCenter's NotAuthenticated ("The session is not authenticated.") for any
// method but the few vCenter serves without a session; its views and
// property collectors are gone with it.

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const sessionCookie = "vmware_soap_session"

// Methods vCenter answers without a session (the stock simulator answers
// RetrieveProperties(Ex) and Fetch too, reporting each property missing
// with NotAuthenticated, as vCenter does for RetrieveContents).
var noSessionMethods = map[string]bool{
	"RetrieveServiceContent": true, "Login": true, "LoginByToken": true, "LoginExtensionByCertificate": true,
	"LoginExtensionBySubjectName": true, "LoginBySSPI": true, "CloneSession": true,
	"RetrieveProperties": true, "RetrievePropertiesEx": true, "Fetch": true,
}

type labSession struct {
	lastEnd  time.Time // end of the last call
	inflight int
}

type sessionTable struct {
	mu    sync.Mutex
	live  map[string]*labSession
	ended map[string]time.Time
}

func newSessionTable() *sessionTable {
	return &sessionTable{live: map[string]*labSession{}, ended: map[string]time.Time{}}
}

func requestSession(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// begin notes a call of session key; it returns false when the session
// has ended (by now, with ttl, if it was idle too long).
func (st *sessionTable) begin(key string, ttl time.Duration, now time.Time) bool {
	st.mu.Lock()
	s := st.live[key]
	expired := s != nil && ttl > 0 && s.inflight == 0 && now.Sub(s.lastEnd) > ttl
	if s != nil && !expired {
		s.inflight++
	}
	_, ended := st.ended[key]
	st.mu.Unlock()
	if expired {
		st.end(key)
		return false
	}
	return !ended
}

// finish notes the end of a call of key.
func (st *sessionTable) finish(key string, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.live[key]; s != nil {
		s.inflight--
		s.lastEnd = now
	}
}

// started follows a session a call's answer has just made.
func (st *sessionTable) started(key string, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.live[key]; !ok {
		st.live[key] = &labSession{lastEnd: now}
	}
	delete(st.ended, key)
}

// end forgets session key and ends it in the simulator (idempotent).
func (st *sessionTable) end(key string) {
	st.mu.Lock()
	_, live := st.live[key]
	delete(st.live, key)
	st.ended[key] = time.Now()
	st.mu.Unlock()
	if live {
		terminateStockSession(key)
	}
}

// expireIdle ends every session idle for longer than ttl.
func (st *sessionTable) expireIdle(ttl time.Duration, now time.Time) {
	if ttl <= 0 {
		return
	}
	var idle []string
	st.mu.Lock()
	for key, s := range st.live {
		if s.inflight == 0 && now.Sub(s.lastEnd) > ttl {
			idle = append(idle, key)
		}
	}
	st.mu.Unlock()
	for _, key := range idle {
		st.end(key)
	}
}

// terminateStockSession removes key from the simulator's sessions.
func terminateStockSession(key string) {
	admin := &simulator.Context{Session: &simulator.Session{UserSession: types.UserSession{Key: "vhpc-lab"}}}
	simulator.Map.SessionManager().TerminateSession(admin, &types.TerminateSession{SessionId: []string{key}})
}

// watchSessions ends idle sessions every second while the lab runs.
func (l *Lab) watchSessions(done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			l.sessions.expireIdle(l.faults.sessionTTL(), now)
		}
	}
}

// sessionCall wraps one SOAP call: it refuses a call on an ended session
// (true: answered), or returns the function to run once the call is done.
func (l *Lab) sessionCall(w http.ResponseWriter, r *http.Request, call soapCall) (bool, func(http.Header)) {
	key := requestSession(r)
	alive := key == "" || l.sessions.begin(key, l.faults.sessionTTL(), time.Now())
	if !alive && !noSessionMethods[call.method] {
		this := types.ManagedObjectReference{Type: call.thisType, Value: call.thisVal}
		fault := &types.NotAuthenticated{NoPermission: types.NoPermission{Object: this, PrivilegeId: "System.View"}}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, soapFaultEnvelope(fault, "The session is not authenticated."))
		return true, nil
	}
	return false, func(h http.Header) {
		now := time.Now()
		if alive && key != "" {
			l.sessions.finish(key, now)
		}
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == sessionCookie && c.Value != "" {
				l.sessions.started(c.Value, now)
			}
		}
		if call.method == "Logout" && alive && key != "" {
			l.sessions.end(key)
		}
	}
}

// sessionHook receives SessionManager.TerminateSession.
type sessionHook struct{ labHook }

// TerminateSession ends the sessions one after the other, as vCenter does:
// InvalidArgument for the caller's own session (use Logout) or an empty
// list, NotFound for an unknown one; sessions before a failure stay ended.
func (h *sessionHook) TerminateSession(ctx *simulator.Context, req *types.TerminateSession) soap.HasFault {
	sm, ok := h.target(ctx).(*simulator.SessionManager)
	if !ok {
		return &methods.TerminateSessionBody{Fault_: notFound(h.real)}
	}
	if len(req.SessionId) == 0 {
		return &methods.TerminateSessionBody{Fault_: simulator.Fault("A specified parameter was not correct: sessionId",
			&types.InvalidArgument{InvalidProperty: "sessionId"})}
	}
	for _, id := range req.SessionId {
		if ctx.Session != nil && id == ctx.Session.Key {
			return &methods.TerminateSessionBody{Fault_: simulator.Fault(
				"A specified parameter was not correct: sessionId (the current session: use Logout)",
				&types.InvalidArgument{InvalidProperty: "sessionId"})}
		}
		res := sm.TerminateSession(ctx, &types.TerminateSession{This: req.This, SessionId: []string{id}})
		if f := res.Fault(); f != nil {
			if _, nf := f.Detail.Fault.(*types.NotFound); nf && f.String == "" {
				f.String = "The object or item referred to could not be found: session " + id
			}
			return &methods.TerminateSessionBody{Fault_: f}
		}
		h.lab.sessions.end(id)
	}
	return &methods.TerminateSessionBody{Res: &types.TerminateSessionResponse{}}
}
