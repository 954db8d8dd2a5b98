package main

// Fault injection for tests (README "Fault injection"): failing tasks of
// chosen methods on chosen objects, dropped connections, slow tasks and
// idle session expiry. Each is a command line flag and can be changed at
// run time through POST /debug/faults, so tests can use the shared lab and
// put it back afterwards.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// failRule makes calls of method on objects whose name matches re fail
// with fault (a vim fault type name).
type failRule struct {
	Method string `json:"method"`
	Regex  string `json:"regex"`
	Fault  string `json:"fault"`
	re     *regexp.Regexp
}

const defaultInjectedFault = "SystemError"

// parseFailRule reads METHOD:REGEX[:FAULT]. The last part is the fault
// when it names a vim fault type; otherwise it belongs to the regex (which
// may contain colons).
func parseFailRule(s string) (failRule, error) {
	i := strings.Index(s, ":")
	if i <= 0 {
		return failRule{}, fmt.Errorf("%q: want METHOD:REGEX[:FAULT]", s)
	}
	r := failRule{Method: s[:i], Regex: s[i+1:], Fault: defaultInjectedFault}
	if j := strings.LastIndex(r.Regex, ":"); j >= 0 && newFault(r.Regex[j+1:]) != nil {
		r.Regex, r.Fault = r.Regex[:j], r.Regex[j+1:]
	}
	return r.compiled()
}

func (r failRule) compiled() (failRule, error) {
	if r.Fault == "" {
		r.Fault = defaultInjectedFault
	}
	if newFault(r.Fault) == nil {
		return r, fmt.Errorf("%q is not a vSphere fault type", r.Fault)
	}
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return r, fmt.Errorf("regex %q: %v", r.Regex, err)
	}
	r.re = re
	return r, nil
}

// newFault returns a new fault of the vim type name, or nil.
func newFault(name string) types.BaseMethodFault {
	if name == "" || strings.ContainsAny(name, " .:/") {
		return nil
	}
	typ, ok := types.TypeFunc()(name)
	if !ok || typ.Kind() != reflect.Struct {
		return nil
	}
	f, ok := reflect.New(typ).Interface().(types.BaseMethodFault)
	if !ok {
		return nil
	}
	return f
}

// failRules is the flag value of --fail-method (repeatable).
type failRules []failRule

func (f *failRules) String() string { return fmt.Sprint(*f) }

func (f *failRules) Set(s string) error {
	r, err := parseFailRule(s)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

// seconds is a flag value: a number of seconds or a Go duration.
type seconds struct{ d *time.Duration }

func (s seconds) String() string {
	if s.d == nil {
		return "0"
	}
	return s.d.String()
}

func (s seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		*s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q: want seconds or a duration such as 90s", v)
	}
	*s.d = d
	return nil
}

// FaultSettings are the injected faults in force (JSON of /debug/faults).
type FaultSettings struct {
	FailMethod      []failRule `json:"fail_method"`
	DropConnections int        `json:"drop_connections"` // every Nth SOAP request's connection is closed unanswered
	TaskDelayMs     int        `json:"task_delay_ms"`    // tasks the lab runs itself stay running this long
	SessionTTL      float64    `json:"session_ttl"`      // seconds a session may stay idle (0: forever)
}

// labFaults holds the settings and the counters behind them.
type labFaults struct {
	mu       sync.Mutex
	set      FaultSettings
	requests int // SOAP requests seen (for drop_connections)
	dropped  int
	injected int
}

func (f *labFaults) settings() FaultSettings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set
}

func (f *labFaults) taskDelay() time.Duration {
	return time.Duration(f.settings().TaskDelayMs) * time.Millisecond
}

func (f *labFaults) sessionTTL() time.Duration {
	return time.Duration(f.settings().SessionTTL * float64(time.Second))
}

// shouldDrop counts a SOAP request and says whether its connection goes.
func (f *labFaults) shouldDrop() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.set.DropConnections > 0 && f.requests%f.set.DropConnections == 0 {
		f.dropped++
		return true
	}
	return false
}

// rule returns the first rule for method matching one of names.
func (f *labFaults) rule(method string, names ...string) *failRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.set.FailMethod {
		r := &f.set.FailMethod[i]
		if r.Method != method {
			continue
		}
		for _, n := range names {
			if n != "" && r.re.MatchString(n) {
				f.injected++
				rc := *r
				return &rc
			}
		}
	}
	return nil
}

// dropConnection closes the request's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server closes the connection
}

// objectName is the inventory name a fail rule matches for _this: an
// entity's name, a host's for its HostNetworkSystem.
func objectName(ref types.ManagedObjectReference) string {
	obj := simulator.Map.Get(ref)
	if e, ok := obj.(mo.Entity); ok {
		return e.Entity().Name
	}
	if ref.Type == "HostNetworkSystem" {
		for _, e := range simulator.Map.All("HostSystem") {
			if h, ok := e.(*simulator.HostSystem); ok && h.ConfigManager.NetworkSystem != nil &&
				*h.ConfigManager.NetworkSystem == ref {
				return h.Name
			}
		}
	}
	return ""
}

// argName is the top-level <name> argument of a SOAP call (CloneVM_Task's
// new VM name, CreateFolder's folder name), or "".
func argName(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			// Envelope(1) > Body(2) > Method(3) > argument(4)
			if depth == 4 && t.Name.Local == "name" {
				var v string
				if d.DecodeElement(&v, &t) == nil {
					return v
				}
				return ""
			}
		case xml.EndElement:
			depth--
		}
	}
}

// injectFault answers call with the fault of a matching rule: a failed
// task for a *_Task method, a SOAP fault otherwise. False when no rule
// matches.
func (l *Lab) injectFault(w http.ResponseWriter, call soapCall, body []byte) bool {
	if call.method == "" || call.thisVal == "" {
		return false
	}
	ref := types.ManagedObjectReference{Type: call.thisType, Value: call.thisVal}
	if simulator.Map.Get(ref) == nil {
		return false
	}
	names := []string{objectName(ref), argName(body)}
	r := l.faults.rule(call.method, names...)
	if r == nil {
		return false
	}
	target := names[0]
	if target == "" {
		target = names[1]
	}
	msg := fmt.Sprintf("%s of %s failed: %s injected by the lab (--fail-method %s:%s)",
		call.method, target, r.Fault, r.Method, r.Regex)
	fault := withMessage(newFault(r.Fault), "injected", msg)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if strings.HasSuffix(call.method, "_Task") {
		obj := simulator.Map.Get(ref)
		name := strings.TrimSuffix(call.method, "_Task") + "Task"
		task := simulator.CreateTask(obj, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, fault
		})
		tref := l.runTask(task, call.method == "CloneVM_Task")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, soapEnvelope(fmt.Sprintf(
			`<%sResponse xmlns="urn:vim25"><returnval type="Task">%s</returnval></%sResponse>`,
			call.method, tref.Value, call.method)))
		return true
	}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, soapFaultEnvelope(fault, msg))
	return true
}

// soapFaultEnvelope is a SOAP fault answer carrying fault, as vCenter
// encodes one (detail element TYPEFault with xsi:type TYPE).
func soapFaultEnvelope(fault types.BaseMethodFault, msg string) string {
	kind := reflect.TypeOf(fault).Elem().Name()
	var detail bytes.Buffer
	enc := xml.NewEncoder(&detail)
	start := xml.StartElement{Name: xml.Name{Local: kind + "Fault"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "xmlns"}, Value: "urn:vim25"},
		{Name: xml.Name{Local: "xsi:type"}, Value: kind},
	}}
	if err := enc.EncodeElement(fault, start); err != nil || enc.Flush() != nil {
		detail.Reset()
	}
	var text bytes.Buffer
	_ = xml.EscapeText(&text, []byte(msg))
	return soapEnvelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>` +
		text.String() + `</faultstring><detail>` + detail.String() + `</detail></soapenv:Fault>`)
}

type faultsReport struct {
	FaultSettings
	Requests int `json:"requests"`
	Dropped  int `json:"dropped"`
	Injected int `json:"injected"`
}

// serveDebugFaults: GET shows the settings and counters; POST (a JSON
// FaultSettings) replaces the settings; POST ?reset=1 clears them.
func (l *Lab) serveDebugFaults(w http.ResponseWriter, r *http.Request) {
	f := l.faults
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var next FaultSettings
		if r.URL.Query().Get("reset") == "" {
			if err := json.NewDecoder(r.Body).Decode(&next); err != nil {
				http.Error(w, "want JSON settings: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		for i := range next.FailMethod {
			rule, err := next.FailMethod[i].compiled()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			next.FailMethod[i] = rule
		}
		if next.DropConnections < 0 || next.TaskDelayMs < 0 || next.SessionTTL < 0 {
			http.Error(w, "negative setting", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.set = next
		f.requests, f.dropped, f.injected = 0, 0, 0
		f.mu.Unlock()
	default:
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	f.mu.Lock()
	rep := faultsReport{FaultSettings: f.set, Requests: f.requests, Dropped: f.dropped, Injected: f.injected}
	f.mu.Unlock()
	if rep.FailMethod == nil {
		rep.FailMethod = []failRule{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}
